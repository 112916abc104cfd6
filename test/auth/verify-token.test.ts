import { createServer, type Server } from 'node:http';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { readSecurityConfig, SecurityConfigError } from '../../src/auth/config.ts';
import { createSecurity } from '../../src/auth/security.ts';
import { createAuthenticator } from '../../src/auth/verify-token.ts';
import { ConfigError, readConfig } from '../../src/config.ts';
import type { Logger } from '../../src/log.ts';
import { mint, SECRET, unsigned } from './tokens.ts';

const hs = createAuthenticator({ secret: SECRET });
const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (error) => error,
  );

describe('HS256 with AUTH_JWT_SECRET', () => {
  test('a valid token gives its role, subject, customer and expiry', async () => {
    await expect(hs(`Bearer ${await mint({ role: 'writer' })}`)).resolves.toMatchObject({
      role: 'writer',
      subject: 'alice',
    });
    const access = await hs(`bearer ${await mint({ role: 'customer', customer: 'Ann', sub: 'ann' })}`);
    expect(access).toMatchObject({ role: 'customer', customer: 'Ann', subject: 'ann' });
    expect(access.expiresAt).toBeGreaterThan(Date.now());
  });

  test.each([
    ['missing', async () => undefined, /token is required/],
    ['not a bearer', async () => `Basic ${Buffer.from('a:b').toString('base64')}`, /Bearer/],
    ['garbage', async () => 'Bearer not.a.jwt', /malformed/],
    ['expired', async () => `Bearer ${await mint({ role: 'writer' }, { ttl: -5 })}`, /expired/],
    ['without exp', async () => `Bearer ${await mint({ role: 'writer' }, { ttl: null })}`, /exp/],
    [
      'signed with another secret',
      async () =>
        `Bearer ${await mint({ role: 'writer' }, { secret: new TextEncoder().encode('x'.repeat(40)) })}`,
      /signature/,
    ],
    ['alg none', async () => `Bearer ${unsigned({ role: 'writer' })}`, /algorithm not allowed/],
  ])('%s: UNAUTHENTICATED', async (_name, header, message) => {
    const error = await refusal(hs(await header()));
    expect(error).toMatchObject({ code: 'UNAUTHENTICATED', message: expect.stringMatching(message) });
  });

  test.each([
    ['no role', {}],
    ['another role', { role: 'admin' }],
    ['a customer without a customer claim', { role: 'customer' }],
  ])('%s: FORBIDDEN', async (_name, claims) => {
    expect(await refusal(hs(`Bearer ${await mint(claims)}`))).toMatchObject({ code: 'FORBIDDEN' });
  });

  test('issuer and audience are checked when configured', async () => {
    const strict = createAuthenticator({ secret: SECRET, issuer: 'https://login.test', audience: 'orders' });
    const good = await mint({ role: 'reader', iss: 'https://login.test', aud: 'orders' });
    await expect(strict(`Bearer ${good}`)).resolves.toMatchObject({ role: 'reader' });
    for (const claims of [
      { iss: 'https://evil.test', aud: 'orders' },
      { iss: 'https://login.test', aud: 'x' },
      {},
    ]) {
      const token = await mint({ role: 'reader', ...claims });
      expect(await refusal(strict(`Bearer ${token}`))).toMatchObject({ code: 'UNAUTHENTICATED' });
    }
  });
});

describe('RS256/ES256 from AUTH_JWKS_URL', () => {
  let server: Server;
  let jwksUrl: string;
  let keys: JWK[] = [];
  let fetches = 0;
  beforeAll(async () => {
    server = createServer((_req, res) => {
      fetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address() as { port: number };
    jwksUrl = `http://127.0.0.1:${address.port}/jwks.json`;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  async function signer(alg: 'RS256' | 'ES256', kid: string) {
    const pair = await generateKeyPair(alg, { extractable: true });
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' };
    const sign = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
      new SignJWT({ sub: 'svc', ...claims })
        .setProtectedHeader({ alg, kid, ...header })
        .setExpirationTime('10m')
        .sign(pair.privateKey);
    return { publicJwk, sign };
  }

  test('keys rotate without a restart: an unknown kid fetches the JWKS again', async () => {
    const first = await signer('RS256', 'key-1');
    const second = await signer('ES256', 'key-2');
    keys = [first.publicJwk];
    fetches = 0;
    const verify = createAuthenticator({ jwksUrl, jwksCooldownMs: 0 });
    await expect(verify(`Bearer ${await first.sign({ role: 'reader' })}`)).resolves.toMatchObject({
      role: 'reader',
    });
    await verify(`Bearer ${await first.sign({ role: 'writer' })}`);
    expect(fetches).toBe(1); // cached

    keys = [second.publicJwk]; // rotation at the identity provider
    await expect(verify(`Bearer ${await second.sign({ role: 'writer' })}`)).resolves.toMatchObject({
      role: 'writer',
    });
    expect(fetches).toBe(2);
    // The retired key is gone from the set: its tokens fail once the set has been fetched again.
    expect(await refusal(verify(`Bearer ${await first.sign({ role: 'writer' })}`))).toMatchObject({
      code: 'UNAUTHENTICATED',
    });
  });

  test('algorithm confusion: an HS256 token keyed with the public key is refused', async () => {
    const rsa = await signer('RS256', 'key-3');
    keys = [rsa.publicJwk];
    const verify = createAuthenticator({ jwksUrl, jwksCooldownMs: 0 });
    // The attacker knows the public key and uses its bytes as an HMAC secret.
    const forged = await new SignJWT({ sub: 'mallory', role: 'writer' })
      .setProtectedHeader({ alg: 'HS256', kid: 'key-3' })
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode(JSON.stringify(rsa.publicJwk)));
    expect(await refusal(verify(`Bearer ${forged}`))).toMatchObject({
      code: 'UNAUTHENTICATED',
      message: expect.stringMatching(/algorithm not allowed/),
    });
    expect(await refusal(verify(`Bearer ${unsigned({ role: 'writer' })}`))).toMatchObject({
      code: 'UNAUTHENTICATED',
    });
    // RS256 key presented as ES256: the header cannot pick a weaker path.
    const mislabelled = await rsa.sign({ role: 'writer' }).then((t) => t.split('.'));
    const header = Buffer.from(JSON.stringify({ alg: 'ES256', kid: 'key-3' })).toString('base64url');
    expect(
      await refusal(verify(`Bearer ${[header, mislabelled[1], mislabelled[2]].join('.')}`)),
    ).toMatchObject({ code: 'UNAUTHENTICATED' });
  });

  test('an unreachable JWKS is UNAUTHENTICATED, not a crash', async () => {
    const verify = createAuthenticator({ jwksUrl: 'http://127.0.0.1:1/jwks.json' });
    const rsa = await signer('RS256', 'key-4');
    expect(await refusal(verify(`Bearer ${await rsa.sign({ role: 'reader' })}`))).toMatchObject({
      code: 'UNAUTHENTICATED',
      message: expect.stringMatching(/keys could not be fetched/),
    });
  });
});

describe('configuration', () => {
  test('nothing set: undefined (auth off, any origin, GraphiQL on)', () => {
    expect(readSecurityConfig({})).toBeUndefined();
    expect(readSecurityConfig({ AUTH_JWT_SECRET: ' ', CORS_ORIGINS: '' })).toBeUndefined();
  });

  test('reads every setting', () => {
    expect(
      readSecurityConfig({
        AUTH_JWT_SECRET: SECRET,
        AUTH_JWKS_URL: 'https://login.test/jwks.json',
        AUTH_JWT_ISSUER: 'https://login.test',
        AUTH_JWT_AUDIENCE: 'orders',
        CORS_ORIGINS: 'https://shop.test, http://localhost:5173/',
        GRAPHIQL: 'off',
      }),
    ).toEqual({
      auth: {
        secret: SECRET,
        jwksUrl: 'https://login.test/jwks.json',
        issuer: 'https://login.test',
        audience: 'orders',
      },
      corsOrigins: ['https://shop.test', 'http://localhost:5173'],
      graphiql: false,
    });
    expect(readSecurityConfig({ CORS_ORIGINS: '*' })).toEqual({
      auth: undefined,
      corsOrigins: '*',
      graphiql: true,
    });
  });

  test.each([
    [{ AUTH_JWT_SECRET: 'short' }, /at least 32 bytes/],
    [{ AUTH_JWKS_URL: 'ftp://x' }, /http/],
    [{ AUTH_JWT_ISSUER: 'x' }, /need AUTH_JWT_SECRET/],
    [{ CORS_ORIGINS: 'https://shop.test/path' }, /not an origin/],
    [{ CORS_ORIGINS: 'shop.test' }, /not an origin/],
    [{ GRAPHIQL: 'maybe' }, /on or off/],
  ])('%o is refused with a clear message', (env, message) => {
    expect(() => readSecurityConfig(env)).toThrow(SecurityConfigError);
    expect(() => readSecurityConfig(env)).toThrow(message);
  });
});

describe('start-up', () => {
  const logger = () => {
    const warnings: string[] = [];
    const log = { warn: (message: string) => warnings.push(message), debug: () => {} } as unknown as Logger;
    return { log, warnings };
  };

  test('with authentication off, a warning says that everything is open', () => {
    const off = logger();
    expect(createSecurity(undefined, off.log).enabled).toBe(false);
    expect(off.warnings).toEqual([
      expect.stringMatching(/authentication is off.*anyone who can reach this port/),
    ]);
    const on = logger();
    expect(createSecurity(readSecurityConfig({ AUTH_JWT_SECRET: SECRET }), on.log).enabled).toBe(true);
    expect(on.warnings).toEqual([]);
  });

  test('a wrong setting ends the start with one line (ConfigError), like the other settings', () => {
    expect(() => readConfig({ AUTH_JWT_SECRET: 'short' })).toThrow(ConfigError);
    expect(readConfig({}).security).toBeUndefined();
    expect(readConfig({ AUTH_JWT_SECRET: SECRET }).security?.auth).toEqual({
      secret: SECRET,
      jwksUrl: undefined,
      issuer: undefined,
      audience: undefined,
    });
  });
});
