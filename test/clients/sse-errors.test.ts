import { createClient as createSseClient } from 'graphql-sse';
import { afterAll, beforeAll, expect, test } from 'vitest';
import { encodeCursor } from '../../src/changes/position.ts';
import { startTestService, type TestService } from '../helpers/service.ts';
import { waitFor } from '../helpers/wait.ts';

// Over SSE, an operation refused before it starts reaches the client as its GraphQL errors, with
// their codes, in both connection modes, as over WebSocket (src/server/sse.ts).

let service: TestService;
beforeAll(async () => {
  // History kept for a second, and a change older than that: a cursor from before it has expired
  // on every backend (on MySQL a cursor is a change's seq, and expires with the changes after it).
  service = await startTestService({ feed: { retentionMs: 1_000, pruneIntervalMs: 3_600_000 } });
  await service.database.sql("INSERT INTO orders (customer_name, product_name) VALUES ('old', 'x')");
  await waitFor(
    async () => (await service.graphql('{ orderChanges { cursor } }')).data?.orderChanges.length === 1,
  );
  await new Promise((resolve) => setTimeout(resolve, 1_500));
});
afterAll(async () => {
  await service?.stop();
});

const SUBSCRIPTION = 'subscription ($after: String) { orderChanged(after: $after) { cursor } }';

async function firstResult(singleConnection: boolean, query: string, variables?: Record<string, unknown>) {
  const client = createSseClient({
    url: `${service.url}/graphql/stream`,
    singleConnection,
    retryAttempts: 0,
  });
  try {
    for await (const result of client.iterate({ query, variables: variables ?? {} })) return result;
    throw new Error('no result');
  } finally {
    client.dispose();
  }
}

for (const singleConnection of [false, true]) {
  const mode = singleConnection ? 'single connection' : 'distinct connections';

  test(`${mode}: a malformed after is BAD_USER_INPUT, an expired one CURSOR_EXPIRED`, async () => {
    const malformed = await firstResult(singleConnection, SUBSCRIPTION, { after: 'not-a-cursor' });
    expect(malformed).not.toHaveProperty('data');
    expect(malformed.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });

    // A position before a change that the retention dropped.
    const before = encodeCursor({ position: { tick: 0, last: 0, seq: 0 } });
    const expired = await firstResult(singleConnection, SUBSCRIPTION, { after: before });
    expect(expired.errors?.[0]?.extensions).toMatchObject({ code: 'CURSOR_EXPIRED' });
  });

  test(`${mode}: wrong variables, syntax and validation errors arrive as errors`, async () => {
    const wrongType = await firstResult(singleConnection, SUBSCRIPTION, { after: 5 });
    expect(wrongType.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT' });
    const syntax = await firstResult(singleConnection, 'subscription { orderChanged { cursor ');
    expect(syntax.errors?.[0]?.message).toMatch(/Expected Name/);
    const invalid = await firstResult(singleConnection, 'subscription { orderChanged { nope } }');
    expect(invalid.errors?.[0]?.message).toMatch(/Cannot query field "nope"/);
  });
}
