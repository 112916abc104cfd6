/**
 * Lean subscribers for `npm run bench`: the same few lines of client work for the floor and for the
 * service, so that the load driver, which shares the machine, costs both alike.
 */
import http from 'node:http';
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

/**
 * One graphql-sse subscription in distinct connections mode (one HTTP stream per subscription),
 * read with node:http and a string buffer: as little client work per event as the WebSocket
 * subscribers above. (fetch with a TextDecoderStream cost the load driver about twice the CPU per
 * event of a WebSocket client, 43 against 23 µs at 20,000 events/s, on the cores the server shares.)
 */
export function sseSubscriber(
  url: string,
  query: string,
  onData: (data: Record<string, any>) => void,
): Promise<Subscriber> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ query });
    const request = http.request(
      url,
      {
        method: 'POST',
        agent: false,
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          'content-length': Buffer.byteLength(body),
        },
      },
      (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          reject(new Error(`bench: SSE subscribe answered ${response.statusCode}`));
          return;
        }
        response.setEncoding('utf8');
        let buffer = '';
        response.on('data', (chunk: string) => {
          buffer += chunk;
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
        });
        response.on('error', () => {}); // destroyed by close()
        resolve({ close: () => request.destroy() });
      },
    );
    request.on('error', reject); // after close(), a no-op
    request.end(body);
  });
}
