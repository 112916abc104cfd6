import { createRemoteJWKSet, errors, type JWTVerifyGetKey, type JWTVerifyOptions, jwtVerify } from 'jose';
import { type Access, AuthError, accessFromClaims } from './access.ts';
import type { AuthConfig } from './config.ts';

export type Authenticate = (authorization: string | null | undefined) => Promise<Access>;

// Each key type accepts its algorithms only: an HS256 token "signed" with a JWKS public key as its
// HMAC secret (algorithm confusion) and `alg: none` are refused before any key is looked at.
const SECRET_ALGORITHMS = ['HS256'];
const JWKS_ALGORITHMS = ['RS256', 'ES256'];

/**
 * Verifies `Authorization: Bearer <jwt>` with the HS256 secret, or with RS256/ES256 keys from the
 * JWKS URL, which jose caches and fetches again when a token names a `kid` it does not know (keys
 * rotate without a restart; test/auth/jwks.test.ts). With both configured, the token's `alg` picks.
 */
export function createAuthenticator(config: AuthConfig): Authenticate {
  const secret = config.secret ? new TextEncoder().encode(config.secret) : undefined;
  const jwks = config.jwksUrl
    ? createRemoteJWKSet(new URL(config.jwksUrl), {
        cooldownDuration: config.jwksCooldownMs ?? 30_000,
        timeoutDuration: 5_000,
      })
    : undefined;
  const algorithms = [...(secret ? SECRET_ALGORITHMS : []), ...(jwks ? JWKS_ALGORITHMS : [])];
  const key: JWTVerifyGetKey = async (header, token) => {
    if (secret && header.alg === 'HS256') return secret;
    if (jwks && JWKS_ALGORITHMS.includes(header.alg)) return jwks(header, token);
    throw new errors.JOSEAlgNotAllowed('"alg" (Algorithm) Header Parameter value not allowed');
  };
  const options: JWTVerifyOptions = {
    algorithms,
    requiredClaims: ['exp'],
    issuer: config.issuer,
    audience: config.audience,
  };

  return async (authorization) => {
    const token = bearerToken(authorization);
    let claims: Record<string, unknown>;
    try {
      claims = (await jwtVerify(token, key, options)).payload;
    } catch (error) {
      throw new AuthError('UNAUTHENTICATED', `invalid token: ${describe(error)}`);
    }
    return accessFromClaims(claims);
  };
}

function bearerToken(authorization: string | null | undefined): string {
  if (!authorization)
    throw new AuthError('UNAUTHENTICATED', 'a token is required: Authorization: Bearer <jwt>');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!match?.[1]) throw new AuthError('UNAUTHENTICATED', 'the Authorization header must be "Bearer <jwt>"');
  return match[1];
}

// What the client may know about why: expired, wrong issuer, bad signature; never key material.
function describe(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'expired';
  if (error instanceof errors.JWTClaimValidationFailed) return error.message;
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'signature verification failed';
  if (error instanceof errors.JWKSNoMatchingKey) return 'no key matches the token';
  if (error instanceof errors.JWKSTimeout || error instanceof errors.JWKSInvalid) {
    return 'the signing keys could not be fetched';
  }
  if (error instanceof errors.JOSEError) return 'malformed';
  // Not jose's own: fetching the JWKS failed (network, DNS).
  return 'the signing keys could not be fetched';
}
