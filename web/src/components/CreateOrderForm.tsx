import { type FormEvent, useState } from 'react';
import { useMutation } from 'urql';
import { describeError, type Problem } from '../errors.ts';
import type { Order } from '../live-orders.ts';
import { CreateOrderMutation } from '../operations.ts';
import { useSession } from '../session-context.ts';
import { EMPTY_VALUES, OrderFields } from './OrderFields.tsx';

export function CreateOrderForm({ onCreated }: { onCreated(order: Order): void }) {
  const [values, setValues] = useState(EMPTY_VALUES);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [notice, setNotice] = useState('');
  const [{ fetching }, createOrder] = useMutation(CreateOrderMutation);
  const { customer } = useSession();

  async function submit(event: FormEvent) {
    event.preventDefault();
    setNotice('');
    const result = await createOrder({
      input: {
        customerName: customer ?? values.customerName,
        productName: values.productName,
        quantity: Number(values.quantity),
        status: values.status,
      },
    });
    if (result.error || !result.data) {
      setProblem(result.error ? describeError(result.error) : null);
      return;
    }
    setProblem(null);
    setValues(EMPTY_VALUES);
    setNotice(`Order #${result.data.createOrder.id} created.`);
    onCreated(result.data.createOrder);
  }

  return (
    <section className="panel create" aria-labelledby="create-heading">
      <header className="panel-header">
        <h2 id="create-heading">New order</h2>
      </header>
      <form onSubmit={submit} aria-describedby="create-status">
        <OrderFields id="create" values={values} onChange={setValues} invalid={fieldProblem(problem)} />
        {problem && !fieldProblem(problem) && (
          <p className="alert" role="alert">
            {problem.message}
          </p>
        )}
        <div className="form-actions">
          <button type="submit" className="primary" disabled={fetching}>
            {fetching ? 'Creating…' : 'Create order'}
          </button>
          <span id="create-status" className="notice" role="status">
            {notice}
          </span>
        </div>
      </form>
    </section>
  );
}

const FORM_FIELDS = new Set(['customerName', 'productName', 'quantity', 'status']);

/** The server names the field (`customerName`) and prefixes its message with it. */
export function fieldProblem(problem: Problem | null) {
  if (!problem?.field || !FORM_FIELDS.has(problem.field)) return undefined;
  return { field: problem.field, message: problem.message.replace(`${problem.field}: `, '') };
}
