import type { SecurityConfig } from './config.ts';

/**
 * Which browser origins may call the API and open a WebSocket (CORS_ORIGINS). Default: any while
 * authentication is off; with it on, only the server's own origin (its dashboard). The own origin
 * is always allowed: a page served by this server is no cross-origin caller.
 */
export function createOriginPolicy(config: SecurityConfig | undefined) {
  const listed = config?.corsOrigins ?? (config?.auth ? [] : '*');
  return {
    /** Undefined: no restriction configured, so Yoga's default CORS answer stays as it was. */
    restricted: config?.corsOrigins !== undefined || config?.auth !== undefined,
    allows(origin: string, host: string | null | undefined): boolean {
      if (listed === '*' || listed.includes(origin)) return true;
      try {
        return host != null && new URL(origin).host === host.toLowerCase();
      } catch {
        return false;
      }
    },
  };
}

export type OriginPolicy = ReturnType<typeof createOriginPolicy>;

/** Yoga's `cors` option: answers an allowed origin, and nothing (so browsers refuse) for others. */
export function corsOption(policy: OriginPolicy) {
  if (!policy.restricted) return undefined;
  return (request: Request) => {
    const origin = request.headers.get('origin');
    if (origin === null || !policy.allows(origin, request.headers.get('host'))) return false as const;
    // Tokens travel in the Authorization header, never in cookies: no credentials needed.
    return { origin: [origin], credentials: false, maxAge: 600 };
  };
}
