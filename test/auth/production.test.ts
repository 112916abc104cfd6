import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { TestService } from '../helpers/service.ts';
import { call, collect, gql, startAuthService, wsClient } from './harness.ts';

// A production-like configuration: RS256/ES256 keys from a JWKS URL (served here, rotating),
// issuer and audience checked, one allowed browser origin, GraphiQL and introspection off.
let jwks: Server;
let keys: JWK[] = [];
let service: TestService;
const ISSUER = 'https://login.example';
beforeAll(async () => {
  jwks = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
  const { port } = jwks.address() as { port: number };
  service = await startAuthService({
    auth: {
      jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
      issuer: ISSUER,
      audience: 'orders',
      jwksCooldownMs: 0,
    },
    corsOrigins: ['https://shop.example'],
    graphiql: false,
  });
});
afterAll(async () => {
  await service?.stop();
  await new Promise((resolve) => jwks?.close(resolve));
});

async function identityProvider(alg: 'RS256' | 'ES256', kid: string) {
  const pair = await generateKeyPair(alg, { extractable: true });
  const publicJwk: JWK = { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' };
  const sign = (claims: Record<string, unknown>) =>
    new SignJWT({ sub: 'svc', iss: ISSUER, aud: 'orders', ...claims })
      .setProtectedHeader({ alg, kid })
      .setExpirationTime('10m')
      .sign(pair.privateKey);
  return { publicJwk, sign };
}

const ORDERS = '{ orders(first: 1) { changeCursor } }';

test('keys rotate at the identity provider without a restart, on HTTP and WebSocket', async () => {
  const old = await identityProvider('RS256', '2026-1');
  keys = [old.publicJwk];
  const before = await old.sign({ role: 'reader' });
  expect((await gql(service, before, ORDERS)).status).toBe(200);

  const next = await identityProvider('ES256', '2026-2');
  keys = [next.publicJwk];
  const after = await next.sign({ role: 'writer' });
  expect((await gql(service, after, ORDERS)).status).toBe(200);
  const { client } = wsClient(service, after);
  const [result] = await collect(client.iterate({ query: ORDERS }));
  expect(result?.errors).toBeUndefined();
  await client.dispose();

  const wrongIssuer = await next.sign({ role: 'writer', iss: 'https://evil.example' });
  expect((await gql(service, wrongIssuer, ORDERS)).json.errors[0].extensions.code).toBe('UNAUTHENTICATED');
  const wrongAudience = await next.sign({ role: 'writer', aud: 'billing' });
  expect((await gql(service, wrongAudience, ORDERS)).status).toBe(401);
});

test('GRAPHIQL=off: no GraphiQL page, and introspection is refused', async () => {
  const provider = await identityProvider('ES256', '2026-3');
  keys = [provider.publicJwk];
  const token = await provider.sign({ role: 'reader' });
  const page = await call(service, '/graphql', { token, headers: { accept: 'text/html' } });
  expect(page.text).not.toMatch(/graphiql/i);
  const introspection = await gql(service, token, '{ __schema { types { name } } }');
  expect(introspection.json.errors[0].message).toMatch(/introspection/i);
  expect(introspection.json.data).toBeUndefined();
  // Ordinary operations (with their __typename) still work.
  expect((await gql(service, token, '{ orders(first: 1) { __typename } }')).json.errors).toBeUndefined();
});

test('CORS_ORIGINS: a listed origin may call from a browser; others may not', async () => {
  const preflight = async (origin: string) =>
    (
      await call(service, '/graphql', {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization',
        },
      })
    ).headers.get('access-control-allow-origin');
  expect(await preflight('https://shop.example')).toBe('https://shop.example');
  expect(await preflight('https://evil.example')).toBeNull();
});
