/** Errors the caller can act on. The API layers map `code` to GraphQL extensions and HTTP statuses. */
export type DomainErrorCode =
  | 'BAD_USER_INPUT'
  | 'NOT_FOUND'
  | 'CONFLICT'
  | 'CURSOR_EXPIRED'
  /** Authenticated, but the role may not do this (src/auth, src/orders/scope.ts). */
  | 'FORBIDDEN'
  /** The database cannot be reached (or the service is still starting): retry later. */
  | 'SERVICE_UNAVAILABLE';

export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const badInput = (field: string, message: string) =>
  new DomainError('BAD_USER_INPUT', `${field}: ${message}`, { field });
