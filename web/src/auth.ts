/**
 * The dashboard's token, when the server needs one: kept for this browser tab's session
 * (sessionStorage, never in the URL, so it is not in history, logs or Referer headers).
 */
const KEY = 'realtime-orders.token';

export interface Session {
  token: string | null;
  /** `open` when the server needs no token. */
  role: string;
  subject?: string;
  customer?: string;
}

export const OPEN_SESSION: Session = { token: null, role: 'open' };

export const storedToken = () => sessionStorage.getItem(KEY);
export const storeToken = (token: string) => sessionStorage.setItem(KEY, token);
export const forgetToken = () => sessionStorage.removeItem(KEY);

/** Who the token says it is. Only for display and hiding controls; the server decides. */
export function sessionOf(token: string | null): Session {
  if (!token) return OPEN_SESSION;
  try {
    const part = token.split('.')[1] ?? '';
    const json = atob(part.replaceAll('-', '+').replaceAll('_', '/'));
    const claims = JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
    return {
      token,
      role: typeof claims.role === 'string' ? claims.role : 'none',
      ...(typeof claims.sub === 'string' ? { subject: claims.sub } : {}),
      ...(typeof claims.customer === 'string' ? { customer: claims.customer } : {}),
    };
  } catch {
    return { token, role: 'none' };
  }
}

export const mayWrite = (session: Session) => session.role !== 'reader';

export type ProbeResult = { ok: true } | { ok: false; status: number; message: string };

/** Asks the server whether this token (or none) may use the API: the smallest query there is. */
export async function probe(token: string | null, origin = window.location.origin): Promise<ProbeResult> {
  const response = await fetch(`${origin}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query: '{ __typename }' }),
  });
  if (response.status !== 401 && response.status !== 403) return { ok: true };
  const body = (await response.json().catch(() => ({}))) as { errors?: { message?: string }[] };
  return { ok: false, status: response.status, message: body.errors?.[0]?.message ?? response.statusText };
}
