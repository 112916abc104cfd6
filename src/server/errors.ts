import { GraphQLError } from 'graphql';
import { createGraphQLError, maskError } from 'graphql-yoga';
import { DomainError } from '../errors.ts';

/** The one place where domain errors become GraphQL errors; anything unexpected stays masked. */
export function maskGraphQLError(error: unknown, message: string, isDev?: boolean): Error {
  const original = error instanceof GraphQLError ? error.originalError : error;
  if (original instanceof DomainError) {
    return createGraphQLError(original.message, {
      nodes: error instanceof GraphQLError ? error.nodes : undefined,
      path: error instanceof GraphQLError ? error.path : undefined,
      extensions: { code: original.code, ...original.details },
    });
  }
  // No path: raised before execution, so by graphql-js itself, never by a resolver.
  if (error instanceof GraphQLError && !error.path) {
    const field = invalidVariableField(error.message);
    if (field !== undefined) {
      return createGraphQLError(error.message, {
        nodes: error.nodes,
        extensions: { ...error.extensions, code: 'BAD_USER_INPUT', field },
      });
    }
  }
  return maskError(error, message, isDev);
}

/**
 * graphql-js refuses variables that do not fit their type (null for String!, an unknown enum value)
 * before any resolver runs, with a message but no code. They are input errors like any other, so
 * they get BAD_USER_INPUT and the field they name, e.g. `at "input.customerName"` -> customerName.
 */
function invalidVariableField(message: string): string | undefined {
  const variable = /^Variable "\$(\w+)" /.exec(message)?.[1];
  if (variable === undefined) return undefined;
  const missing = /Field "(\w+)" of required type/.exec(message)?.[1];
  const path = / at "([^"]+)";/.exec(message)?.[1];
  return (
    missing ??
    path
      ?.replace(/\[\d+\]/g, '')
      .split('.')
      .at(-1) ??
    variable
  );
}

export const HTTP_STATUS: Record<DomainError['code'], number> = {
  BAD_USER_INPUT: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  CURSOR_EXPIRED: 410,
};
