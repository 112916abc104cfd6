import { useSyncExternalStore } from 'react';
import type { ConnectionStore } from '../client.ts';
import { formatAge, formatDuration } from '../format.ts';
import type { LiveState } from '../live-orders.ts';
import { useNow } from '../use-now.ts';

const LABELS = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…' } as const;

interface Props {
  connection: ConnectionStore;
  lastChange: LiveState['lastChange'];
}

/** Connection phase, and how long ago the last change arrived (and how late it was). */
export function ConnectionBadge({ connection, lastChange }: Props) {
  const state = useSyncExternalStore(connection.subscribe, connection.get);
  const now = useNow();
  const delay = lastChange ? Math.max(0, lastChange.receivedAt - Date.parse(lastChange.committedAt)) : null;
  return (
    <div className="connection" data-phase={state.phase}>
      <span className="connection-phase" role="status">
        <span className="dot" aria-hidden="true" />
        {LABELS[state.phase]}
      </span>
      <span className="connection-lag">
        {state.phase === 'reconnecting' && <>Offline {formatDuration(now - state.since)}, will catch up · </>}
        {lastChange ? (
          <>
            Last change {formatAge(now - lastChange.receivedAt)}
            {delay !== null && <span className="muted"> · delivered in {delay} ms</span>}
          </>
        ) : (
          'No changes yet'
        )}
      </span>
    </div>
  );
}
