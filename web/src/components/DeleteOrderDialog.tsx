import { useState } from 'react';
import { useMutation } from 'urql';
import { describeError, type Problem } from '../errors.ts';
import type { LiveState, Order } from '../live-orders.ts';
import { DeleteOrderMutation } from '../operations.ts';
import { Modal } from './Modal.tsx';
import { StatusBadge } from './OrdersTable.tsx';

interface Props {
  order: Order;
  latest: ReturnType<LiveState['known']['get']>;
  onClose(): void;
  onDeleted(order: Order): void;
}

/** Deletes the version shown; a newer one (changed meanwhile) must be looked at first. */
export function DeleteOrderDialog({ order, latest, onClose, onDeleted }: Props) {
  const [base, setBase] = useState(order);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [{ fetching }, deleteOrder] = useMutation(DeleteOrderMutation);
  const current = latest && !latest.deleted && latest.order.version > base.version ? latest.order : undefined;

  async function confirm() {
    const result = await deleteOrder({ id: base.id, expectedVersion: base.version });
    if (result.error || !result.data) return setProblem(result.error ? describeError(result.error) : null);
    onDeleted(result.data.deleteOrder);
    onClose();
  }

  return (
    <Modal labelledBy="delete-heading" onClose={onClose}>
      <div className="modal-body">
        <h2 id="delete-heading">Delete order #{base.id}?</h2>
        <p>
          {base.customerName} · {base.productName} × {base.quantity} <StatusBadge status={base.status} />
        </p>
        {problem && (
          <div className="alert conflict" role="alert">
            {problem.code === 'CONFLICT' ? (
              <>
                <strong>Not deleted: someone else changed this order.</strong>
                <p>You saw version {base.version}; look at the current one before deleting it.</p>
                {current && (
                  <button
                    type="button"
                    onClick={() => {
                      setBase(current);
                      setProblem(null);
                    }}
                  >
                    Show version {current.version}
                  </button>
                )}
              </>
            ) : (
              problem.message
            )}
          </div>
        )}
        <div className="form-actions">
          <button type="button" onClick={onClose}>
            Keep it
          </button>
          <button type="button" className="danger" onClick={confirm} disabled={fetching}>
            {fetching ? 'Deleting…' : 'Delete order'}
          </button>
        </div>
      </div>
    </Modal>
  );
}
