import type pg from 'pg';

/** The socket under a pg client, if it has one yet. */
export const streamOf = (client: pg.Client) =>
  (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;

// end() waits for the server to acknowledge, which never happens on a dead network.
export function destroySocket(client: pg.Client): void {
  streamOf(client)?.destroy();
  client.end().catch(() => {});
}
