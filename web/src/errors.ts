import type { CombinedError } from 'urql';

export interface Problem {
  code: string;
  message: string;
  /** The input field a BAD_USER_INPUT names, when it names one. */
  field?: string;
  extensions: Record<string, unknown>;
}

/** The first error of a failed operation, in words a person can act on. */
export function describeError(error: CombinedError): Problem {
  if (error.networkError) {
    return {
      code: 'NETWORK',
      message: 'The server cannot be reached. Check that it is running, then try again.',
      extensions: {},
    };
  }
  const first = error.graphQLErrors[0];
  const extensions = (first?.extensions ?? {}) as Record<string, unknown>;
  const code = typeof extensions.code === 'string' ? extensions.code : 'ERROR';
  const field = typeof extensions.field === 'string' ? extensions.field : undefined;
  return { code, message: first?.message ?? error.message, extensions, ...(field ? { field } : {}) };
}
