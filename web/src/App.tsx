import { useState } from 'react';
import { mayWrite } from './auth.ts';
import type { ConnectionStore } from './client.ts';
import { ActivityFeed } from './components/ActivityFeed.tsx';
import { ConnectionBadge } from './components/ConnectionBadge.tsx';
import { CreateOrderForm } from './components/CreateOrderForm.tsx';
import { DeleteOrderDialog } from './components/DeleteOrderDialog.tsx';
import { EditOrderDialog } from './components/EditOrderDialog.tsx';
import { OrdersTable } from './components/OrdersTable.tsx';
import { SessionBadge } from './components/SessionBadge.tsx';
import { nextSpec, type Order, type PageSpec, pageOrders } from './live-orders.ts';
import { useSession } from './session-context.ts';
import { useLiveOrders } from './use-live-orders.ts';

const FIRST_PAGE: PageSpec = { status: null, size: 20, after: null, lowerId: null };

export function App({ connection, onSignOut }: { connection: ConnectionStore; onSignOut(): void }) {
  // What the role may not do is not offered (the server refuses it anyway).
  const writes = mayWrite(useSession());
  const { state, problem, setSpec, apply } = useLiveOrders(FIRST_PAGE);
  const [previous, setPrevious] = useState<PageSpec[]>([]);
  const [editing, setEditing] = useState<Order | null>(null);
  const [deleting, setDeleting] = useState<Order | null>(null);
  const { page, spec } = state;

  const goNext = () => {
    const next = nextSpec(state);
    if (!next) return;
    setPrevious([...previous, spec]);
    setSpec(next);
  };
  const goPrevious = () => {
    const back = previous.at(-1);
    if (!back) return;
    setPrevious(previous.slice(0, -1));
    setSpec(back);
  };

  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <span className="logo" aria-hidden="true">
            ◉
          </span>
          <h1>Realtime Orders</h1>
        </div>
        <SessionBadge onSignOut={onSignOut} />
        <ConnectionBadge connection={connection} lastChange={state.lastChange} />
      </header>
      {problem && (
        <p className="banner" role="alert">
          {problem}
        </p>
      )}
      <main className="layout">
        <OrdersTable
          orders={pageOrders(state)}
          loading={state.loading}
          spec={spec}
          pageNumber={previous.length + 1}
          hasNextPage={page?.hasNextPage ?? false}
          touched={state.touched}
          onFilter={(status, size) => {
            setPrevious([]);
            setSpec({ status, size, after: null, lowerId: null });
          }}
          onPrevious={goPrevious}
          onNext={goNext}
          onEdit={writes ? setEditing : undefined}
          onDelete={writes ? setDeleting : undefined}
        />
        <div className="side">
          {writes && <CreateOrderForm onCreated={(order) => apply({ type: 'order', order })} />}
          <ActivityFeed entries={state.feed} />
        </div>
      </main>
      {editing && (
        <EditOrderDialog
          order={editing}
          latest={state.known.get(editing.id)}
          onClose={() => setEditing(null)}
          onSaved={(order) => apply({ type: 'order', order })}
        />
      )}
      {deleting && (
        <DeleteOrderDialog
          order={deleting}
          latest={state.known.get(deleting.id)}
          onClose={() => setDeleting(null)}
          onDeleted={(order) => apply({ type: 'order', order, deleted: true })}
        />
      )}
    </div>
  );
}
