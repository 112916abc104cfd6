import { type JWK, type JWTPayload, SignJWT } from 'jose';

export const SECRET = 'test-secret-of-at-least-32-bytes-0123456789';
const secretKey = new TextEncoder().encode(SECRET);

export interface Claims extends JWTPayload {
  role?: unknown;
  customer?: unknown;
}

/** An HS256 token signed with SECRET; `ttl` in seconds (negative: already expired), null: no exp. */
export async function mint(
  claims: Claims,
  { ttl = 600, secret = secretKey }: { ttl?: number | null; secret?: Uint8Array } = {},
) {
  const jwt = new SignJWT({ sub: 'alice', ...claims }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt();
  if (ttl !== null) jwt.setExpirationTime(Math.floor(Date.now() / 1000) + ttl);
  return jwt.sign(secret);
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** `alg: none`: a token anyone can write, which must never be accepted. */
export function unsigned(claims: Claims): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const exp = Math.floor(Date.now() / 1000) + 600;
  return `${part({ alg: 'none', typ: 'JWT' })}.${part({ sub: 'mallory', exp, ...claims })}.`;
}

export type { JWK };
