import { type FormEvent, useState } from 'react';
import { useClient, useMutation } from 'urql';
import { describeError, type Problem } from '../errors.ts';
import { fieldLabel, formatValue } from '../format.ts';
import type { UpdateOrderInput } from '../gql/graphql.ts';
import type { LiveState, Order } from '../live-orders.ts';
import { OrderQuery, UpdateOrderMutation } from '../operations.ts';
import { fieldProblem } from './CreateOrderForm.tsx';
import { Modal } from './Modal.tsx';
import { OrderFields, valuesOf } from './OrderFields.tsx';

interface Props {
  /** The order as shown when editing began: its version is the one the save expects. */
  order: Order;
  /** The newest state the live feed knows of. */
  latest: ReturnType<LiveState['known']['get']>;
  onClose(): void;
  onSaved(order: Order): void;
}

const EDITABLE = ['customerName', 'productName', 'quantity', 'status'] as const;

export function EditOrderDialog({ order, latest, onClose, onSaved }: Props) {
  const client = useClient();
  const [base, setBase] = useState(order);
  const [values, setValues] = useState(() => valuesOf(order));
  const [problem, setProblem] = useState<Problem | null>(null);
  const [{ fetching }, updateOrder] = useMutation(UpdateOrderMutation);
  const conflict = problem?.code === 'CONFLICT';
  const newer = latest && latest.order.version > base.version ? latest : undefined;

  async function save(event: FormEvent) {
    event.preventDefault();
    const input: UpdateOrderInput = {};
    if (values.customerName !== base.customerName) input.customerName = values.customerName;
    if (values.productName !== base.productName) input.productName = values.productName;
    if (Number(values.quantity) !== base.quantity) input.quantity = Number(values.quantity);
    if (values.status !== base.status) input.status = values.status;
    if (Object.keys(input).length === 0) return onClose();
    const result = await updateOrder({ id: base.id, input, expectedVersion: base.version });
    if (result.error || !result.data) return setProblem(result.error ? describeError(result.error) : null);
    onSaved(result.data.updateOrder);
    onClose();
  }

  async function reload() {
    const result = await client
      .query(OrderQuery, { id: base.id }, { requestPolicy: 'network-only' })
      .toPromise();
    if (result.error) return setProblem(describeError(result.error));
    const current = result.data?.order;
    if (!current) {
      return setProblem({
        code: 'NOT_FOUND',
        message: `Order #${base.id} has been deleted.`,
        extensions: {},
      });
    }
    setBase(current);
    setValues(valuesOf(current));
    setProblem(null);
  }

  const theirs =
    newer && !newer.deleted ? EDITABLE.filter((field) => newer.order[field] !== base[field]) : [];
  return (
    <Modal labelledBy="edit-heading" onClose={onClose}>
      <form onSubmit={save} className="modal-body">
        <h2 id="edit-heading">
          Edit order #{base.id} <span className="muted">· version {base.version}</span>
        </h2>
        {conflict ? (
          <div className="alert conflict" role="alert">
            <strong>Not saved: someone else changed this order.</strong>
            <p>
              You edited version {base.version}; it is now version{' '}
              {String(problem?.extensions.currentVersion ?? newer?.order.version ?? 'newer')}. Reload to see
              the current values, then make your change again.
            </p>
            {theirs.length > 0 && newer && (
              <ul className="diff">
                {theirs.map((field) => (
                  <li key={field}>
                    <span className="field">{fieldLabel(field)}</span>{' '}
                    <del>{formatValue(field, base[field])}</del>
                    {' → '}
                    <ins>{formatValue(field, newer.order[field])}</ins>
                  </li>
                ))}
              </ul>
            )}
            <button type="button" className="primary" onClick={reload}>
              Reload latest version
            </button>
          </div>
        ) : newer ? (
          <p className="note" role="status">
            {newer.deleted
              ? `Order #${base.id} was deleted meanwhile.`
              : `Order #${base.id} changed to version ${newer.order.version} while you were editing; saving will be refused.`}{' '}
            {!newer.deleted && (
              <button type="button" className="link" onClick={reload}>
                Load it
              </button>
            )}
          </p>
        ) : null}
        <OrderFields id="edit" values={values} onChange={setValues} invalid={fieldProblem(problem)} />
        {problem && !conflict && !fieldProblem(problem) && (
          <p className="alert" role="alert">
            {problem.message}
          </p>
        )}
        <div className="form-actions">
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={fetching || conflict}>
            {fetching ? 'Saving…' : 'Save changes'}
          </button>
        </div>
      </form>
    </Modal>
  );
}
