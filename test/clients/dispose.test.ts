import { type Client, createClient as createPlainClient } from 'graphql-ws';
import { createClient } from 'realtime-orders/client';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { startTestService, type TestService } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait.ts';

// An application that unsubscribes and disposes while the client waits to reconnect (after a
// token expiry's 4403, say) must not get an exception for it: graphql-ws's dispose() waits for
// the pending attempt and rethrows how it ended, here {code: 1000, 'All Subscriptions Gone'} once
// the wait is over and no subscription is left. test/auth/websocket.test.ts met it now and then.

const CHANGES = 'subscription Changes($after: String) { orderChanged(after: $after) { cursor } }';

let service: TestService;
beforeAll(async () => {
  service = await startTestService();
});
afterAll(async () => {
  await service?.stop();
});

const options = () => ({
  url: service.wsUrl,
  webSocketImpl: WebSocket,
  retryAttempts: 5,
  retryWait: () => new Promise<void>((resolve) => setTimeout(resolve, 300)),
});

/** Subscribes, loses the connection, and while the client waits to retry: unsubscribe, dispose. */
async function disposeWhileWaitingToRetry(
  client: Pick<Client, 'subscribe' | 'dispose' | 'terminate' | 'on'>,
) {
  let connected = 0;
  client.on('connected', () => connected++);
  const unsubscribe = client.subscribe(
    { query: CHANGES, variables: {} },
    { next: () => {}, error: () => {}, complete: () => {} },
  );
  await waitFor(() => connected === 1, { message: 'connected' });
  client.terminate();
  await new Promise((resolve) => setTimeout(resolve, 50));
  unsubscribe();
  return client.dispose();
}

test('graphql-ws alone: dispose() rejects with how the pending attempt ended', async () => {
  await expect(disposeWhileWaitingToRetry(createPlainClient(options()))).rejects.toMatchObject({
    code: 1000,
    reason: 'All Subscriptions Gone',
  });
});

test('realtime-orders/client: dispose() while waiting to reconnect resolves', async () => {
  await expect(disposeWhileWaitingToRetry(createClient(options()))).resolves.toBeUndefined();
});
