/**
 * Lean subscribers for `npm run bench`: the same few lines of client work for the floor and for the
 * service, so that the load driver, which shares the machine, costs both alike.
 */
import WebSocket from 'ws';

export interface Subscriber {
  close(): void;
}

/** One graphql-ws (graphql-transport-ws) socket with one subscription; `onData` gets each `data`. */
export function graphqlWsSubscriber(
  url: string,
  query: string,
  onData: (data: Record<string, any>) => void,
): Promise<Subscriber> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, 'graphql-transport-ws');
    socket.once('error', reject);
    socket.on('open', () => socket.send(JSON.stringify({ type: 'connection_init' })));
    socket.on('message', (raw) => {
      const message = JSON.parse(String(raw));
      if (message.type === 'next') onData(message.payload.data);
      else if (message.type === 'connection_ack') {
        socket.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query } }));
        resolve({ close: () => socket.terminate() });
      } else if (message.type === 'ping') socket.send(JSON.stringify({ type: 'pong' }));
      else if (message.type === 'error') console.error('bench: subscription error', message.payload);
    });
  });
}

/** One raw WebSocket to the floor; `onRow` gets each notification's JSON. */
export function floorSubscriber(
  url: string,
  onRow: (change: { op: string; row: any }) => void,
): Promise<Subscriber> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url);
    socket.once('error', reject);
    socket.on('open', () => resolve({ close: () => socket.terminate() }));
    socket.on('message', (raw) => onRow(JSON.parse(String(raw))));
  });
}

/** One graphql-sse subscription in distinct connections mode (one HTTP stream per subscription). */
export async function sseSubscriber(
  url: string,
  query: string,
  onData: (data: Record<string, any>) => void,
): Promise<Subscriber> {
  const abort = new AbortController();
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
    body: JSON.stringify({ query }),
    signal: abort.signal,
  });
  if (!response.ok || !response.body) throw new Error(`bench: SSE subscribe answered ${response.status}`);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  void (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let end = buffer.indexOf('\n\n');
        while (end >= 0) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          if (event.startsWith('event: next')) {
            const data = event.slice(event.indexOf('data: ') + 6);
            onData(JSON.parse(data).data);
          }
          end = buffer.indexOf('\n\n');
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return { close: () => abort.abort() };
}
