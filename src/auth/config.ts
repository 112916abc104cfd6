/** What protects the service: token verification, browser origins, GraphiQL. */
export interface SecurityConfig {
  /** Undefined: authentication is off and everything is open (local development). */
  auth: AuthConfig | undefined;
  /** Origins allowed to call from a browser and to open a WebSocket; `*` for any. Undefined: the
   * default, which is the server's own origin only with auth on, and any origin with auth off. */
  corsOrigins: string[] | '*' | undefined;
  /** GraphiQL and introspection (GRAPHIQL, default on). */
  graphiql: boolean;
}

export interface AuthConfig {
  /** HS256 secret (AUTH_JWT_SECRET). */
  secret?: string;
  /** Where the RS256/ES256 public keys are (AUTH_JWKS_URL). */
  jwksUrl?: string;
  issuer?: string;
  audience?: string;
  /** How long an unknown `kid` does not trigger another JWKS fetch (default 30 s; tests shorten it). */
  jwksCooldownMs?: number;
}

export class SecurityConfigError extends Error {}

const SETTINGS = [
  'AUTH_JWT_SECRET',
  'AUTH_JWKS_URL',
  'AUTH_JWT_ISSUER',
  'AUTH_JWT_AUDIENCE',
  'CORS_ORIGINS',
  'GRAPHIQL',
];
const MIN_SECRET_BYTES = 32;

/** Undefined when none of the settings is given: the defaults (auth off, any origin, GraphiQL on). */
export function readSecurityConfig(env: NodeJS.ProcessEnv): SecurityConfig | undefined {
  const value = (name: string) => env[name]?.trim() || undefined;
  if (!SETTINGS.some(value)) return undefined;
  const secret = value('AUTH_JWT_SECRET');
  const jwksUrl = value('AUTH_JWKS_URL');
  if (secret !== undefined && Buffer.byteLength(secret) < MIN_SECRET_BYTES) {
    // HS256 with a short secret can be brute-forced offline from one token.
    throw new SecurityConfigError(`AUTH_JWT_SECRET must be at least ${MIN_SECRET_BYTES} bytes`);
  }
  if (jwksUrl !== undefined && !/^https?:\/\//.test(jwksUrl)) {
    throw new SecurityConfigError(`AUTH_JWKS_URL must be an http(s):// URL (got ${jwksUrl})`);
  }
  const issuer = value('AUTH_JWT_ISSUER');
  const audience = value('AUTH_JWT_AUDIENCE');
  if (!secret && !jwksUrl && (issuer || audience)) {
    throw new SecurityConfigError(
      'AUTH_JWT_ISSUER and AUTH_JWT_AUDIENCE need AUTH_JWT_SECRET or AUTH_JWKS_URL',
    );
  }
  return {
    auth: secret || jwksUrl ? { secret, jwksUrl, issuer, audience } : undefined,
    corsOrigins: parseOrigins(value('CORS_ORIGINS')),
    graphiql: parseSwitch('GRAPHIQL', value('GRAPHIQL') ?? 'on'),
  };
}

function parseOrigins(value: string | undefined): string[] | '*' | undefined {
  if (value === undefined) return undefined;
  if (value === '*') return '*';
  return value.split(',').map((origin) => {
    const trimmed = origin.trim();
    let url: URL;
    try {
      url = new URL(trimmed);
    } catch {
      throw new SecurityConfigError(
        `CORS_ORIGINS: "${trimmed}" is not an origin like https://shop.example.com`,
      );
    }
    // Browsers send the origin without a path or a trailing slash; compare like with like.
    if (url.origin === 'null' || trimmed.replace(/\/$/, '') !== url.origin) {
      throw new SecurityConfigError(
        `CORS_ORIGINS: "${trimmed}" is not an origin like https://shop.example.com`,
      );
    }
    return url.origin;
  });
}

function parseSwitch(name: string, value: string): boolean {
  const lower = value.toLowerCase();
  if (['on', 'true', '1', 'yes'].includes(lower)) return true;
  if (['off', 'false', '0', 'no'].includes(lower)) return false;
  throw new SecurityConfigError(`${name} must be on or off (got ${value})`);
}
