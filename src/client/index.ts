/**
 * `realtime-orders/client`: graphql-ws and graphql-sse clients whose subscriptions resume from the
 * last change the application received, so that reconnects and server restarts neither lose nor
 * repeat a change. Plain JavaScript in dist/client (built by `npm install`); see the README.
 */
export { type ResumableOperation, resumableOperation } from './operation.ts';
export { createSSEClient } from './sse.ts';
export { createClient } from './ws.ts';
