import { useGraphQLSSE } from '@graphql-yoga/plugin-graphql-sse';
import type { DocumentNode } from 'graphql';
import type { Plugin, YogaServerInstance } from 'graphql-yoga';

type Enveloped = ReturnType<
  YogaServerInstance<Record<string, unknown>, Record<string, unknown>>['getEnveloped']
>;

const NO_OPERATION: DocumentNode = { kind: 'Document' as DocumentNode['kind'], definitions: [] };

/**
 * GraphQL over SSE (`useGraphQLSSE`) that keeps the errors of a refused operation.
 *
 * graphql-sse's handler takes a value for a finished result only if it has a `data` key. An
 * operation refused before it starts (an expired or malformed `after`, a wrong variable, a syntax
 * or validation error) is `{ errors }` without `data`, as the GraphQL spec wants, so the handler
 * took it for execution arguments and answered 400 "Unable to detect operation AST", in both
 * connection modes. Here every refusal comes out of execute/subscribe with a `data` key that is not
 * enumerable: the handler streams it as a result, and the client receives exactly `{ errors }`, with
 * their codes (test/clients/sse-errors.test.ts).
 */
export function useGraphQLSSEWithErrors(options: Parameters<typeof useGraphQLSSE>[0]): Plugin {
  const plugin = useGraphQLSSE(options);
  return {
    ...plugin,
    onYogaInit({ yoga }) {
      const getEnveloped = (context: Record<string, unknown>) => keepRefusals(yoga.getEnveloped(context));
      plugin.onYogaInit?.({ yoga: Object.create(yoga, { getEnveloped: { value: getEnveloped } }) });
    },
  };
}

/** One request's pipeline, where parse and validate errors wait for execute/subscribe to report them. */
function keepRefusals(enveloped: Enveloped): Enveloped {
  let refusal: readonly unknown[] | undefined;
  const run =
    (operation: (args: never) => unknown) =>
    async (args: never): Promise<unknown> =>
      asResult(refusal ? { errors: refusal } : await operation(args));
  return {
    ...enveloped,
    parse: (source, parseOptions) => {
      try {
        return enveloped.parse(source, parseOptions);
      } catch (error) {
        refusal = [error];
        return NO_OPERATION;
      }
    },
    validate: (schema, document, ...rest) => {
      if (refusal) return [];
      const errors = enveloped.validate(schema, document, ...rest);
      if (errors.length) refusal = errors;
      return [];
    },
    execute: run(enveloped.execute as never) as never,
    subscribe: run(enveloped.subscribe as never) as never,
  };
}

function asResult(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !('data' in value) && 'errors' in value) {
    Object.defineProperty(value, 'data', { value: undefined, enumerable: false });
  }
  return value;
}
