import { GraphQLError } from 'graphql';
import { createGraphQLError, maskError } from 'graphql-yoga';
import { isConnectionError, serviceUnavailable } from '../db/connection-errors.ts';
import { DomainError } from '../errors.ts';
import { asVariableInputError } from './input-errors.ts';

/**
 * What the API layers answer for an error: a domain error as it is, a lost or unreachable
 * database as SERVICE_UNAVAILABLE (without its internals), anything else undefined (masked).
 */
export function toDomainError(error: unknown): DomainError | undefined {
  if (error instanceof DomainError) return error;
  return isConnectionError(error) ? serviceUnavailable() : undefined;
}

/** The one place where domain errors become GraphQL errors; anything unexpected stays masked. */
export function maskGraphQLError(error: unknown, message: string, isDev?: boolean): Error {
  const original = toDomainError(error instanceof GraphQLError ? error.originalError : error);
  if (original) {
    return createGraphQLError(original.message, {
      nodes: error instanceof GraphQLError ? error.nodes : undefined,
      path: error instanceof GraphQLError ? error.path : undefined,
      extensions: {
        code: original.code,
        ...original.details,
        // Yoga answers HTTP with this status (and drops `http` from the body), as REST does.
        ...(original.code === 'SERVICE_UNAVAILABLE' && {
          http: { status: HTTP_STATUS.SERVICE_UNAVAILABLE, headers: { 'retry-after': '1' } },
        }),
      },
    });
  }
  return asVariableInputError(error) ?? maskError(error, message, isDev);
}

export const HTTP_STATUS: Record<DomainError['code'], number> = {
  BAD_USER_INPUT: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  CURSOR_EXPIRED: 410,
  FORBIDDEN: 403,
  SERVICE_UNAVAILABLE: 503,
};
