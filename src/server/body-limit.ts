import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';

/** The largest HTTP request body the server reads (CONTRACT "Request limits"): 1 MiB. */
export const MAX_BODY_BYTES = 1 << 20;

/**
 * Refuses request bodies over `maxBytes` with 413 before anything parses them, on every path
 * (GraphQL, SSE, REST). A declared Content-Length over the limit is answered at once, unread. A
 * chunked body (no Content-Length) is counted as it arrives: past the limit, reading stops and the
 * answer is 413; under it, the handler gets the bytes read (at most `maxBytes` held, never more).
 * Bodies with a Content-Length within the limit pass through untouched: Node's parser never
 * delivers more than the declared length.
 */
export function limitRequestBodies(
  handler: RequestListener,
  { maxBytes = MAX_BODY_BYTES, expectsContinue = false } = {},
): RequestListener {
  return (req, res) => {
    const declared = req.headers['content-length'];
    if (declared !== undefined && Number(declared) > maxBytes) return refuse(req, res, maxBytes);
    // As the server's 'checkContinue' listener: `Expect: 100-continue` is granted only to a body
    // that fits, so that a client refused with 413 never sends it (curl asks this for big bodies).
    if (expectsContinue) res.writeContinue();
    if (declared !== undefined) return handler(req, res);
    if (req.headers['transfer-encoding'] === undefined) return handler(req, res);
    const chunks: Buffer[] = [];
    let total = 0;
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total <= maxBytes) return void chunks.push(chunk);
      req.off('data', onData).off('end', onEnd);
      chunks.length = 0;
      refuse(req, res, maxBytes);
    };
    const onEnd = () => {
      // @whatwg-node/server (under Yoga) takes an already read `body` in place of the stream.
      if (total > 0) (req as IncomingMessage & { body?: Buffer }).body = Buffer.concat(chunks, total);
      handler(req, res);
    };
    req.on('data', onData).once('end', onEnd);
  };
}

/** The answer to a body over the limit, GraphQL-shaped on GraphQL's paths, REST-shaped elsewhere. */
export function payloadTooLarge(maxBytes: number, graphql = false): Response {
  return new Response(tooLargeBody(maxBytes, graphql), {
    status: 413,
    headers: { 'content-type': 'application/json; charset=utf-8' },
  });
}

function tooLargeBody(maxBytes: number, graphql: boolean): string {
  const message = `request body: must be at most ${maxBytes} bytes`;
  return JSON.stringify(
    graphql
      ? { errors: [{ message, extensions: { code: 'PAYLOAD_TOO_LARGE' } }] }
      : { error: 'PAYLOAD_TOO_LARGE', message },
  );
}

// Connection: close, because the rest of the body is not wanted and is not read for this socket:
// Node discards what still arrives and closes the connection once the answer is written.
function refuse(req: IncomingMessage, res: ServerResponse, maxBytes: number): void {
  const body = tooLargeBody(maxBytes, (req.url ?? '').startsWith('/graphql'));
  res.shouldKeepAlive = false;
  res.writeHead(413, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    connection: 'close',
  });
  res.end(body);
}
