/** What the caller of one request or WebSocket may do. */
export interface Access {
  /** `open` while authentication is off: everything, as in local development. */
  role: 'open' | 'reader' | 'writer' | 'customer';
  /** The token's `sub`; undefined while authentication is off. */
  subject?: string;
  /** For `customer`: the only customerName it sees and writes. */
  customer?: string;
  /** When the token expires, in ms since the epoch. */
  expiresAt?: number;
  /** When subscriptions over HTTP (SSE) end; a WebSocket is closed at expiry instead (4403). */
  streamsEndAt?: number;
}

export const OPEN_ACCESS: Access = { role: 'open' };

export const ROLES = ['reader', 'writer', 'customer'] as const;

/** Why a request is refused: no valid token (401), or a token that allows nothing here (403). */
export class AuthError extends Error {
  constructor(
    readonly code: 'UNAUTHENTICATED' | 'FORBIDDEN',
    message: string,
  ) {
    super(message);
    this.name = 'AuthError';
  }

  get status(): number {
    return this.code === 'UNAUTHENTICATED' ? 401 : 403;
  }
}

export const mayWrite = (access: Access) => access.role !== 'reader';

/** What `changedBy` records for writes made with this access: `api:<sub>`; none while auth is off. */
export const actorOf = (access: Access) =>
  access.subject === undefined ? undefined : `api:${access.subject}`;

/** Reads the role claims; a token that allows nothing is refused here, before anything runs. */
export function accessFromClaims(claims: Record<string, unknown>): Access {
  const { role, customer, sub, exp } = claims;
  const subject = typeof sub === 'string' && sub !== '' ? sub : undefined;
  const base = { subject: subject ?? '(no sub)', expiresAt: Number(exp) * 1000 };
  if (role === 'reader' || role === 'writer') return { ...base, role };
  if (role === 'customer') {
    if (typeof customer !== 'string' || customer.trim() === '') {
      throw new AuthError('FORBIDDEN', 'the role customer needs a customer claim');
    }
    return { ...base, role, customer };
  }
  throw new AuthError(
    'FORBIDDEN',
    role === undefined
      ? 'the token has no role claim'
      : `the role ${JSON.stringify(role)} may do nothing here`,
  );
}
