import {
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
  type GraphQLSchema,
} from 'graphql';
import { type CompiledQuery, compileQuery, isCompiledQuery } from 'graphql-jit';

type MaybePromise<T> = T | Promise<T>;

/**
 * Executes a subscription's selection on one event, as graphql's `execute` with the event as root
 * value would, but compiled once per document and operation (graphql-jit): per event, graphql's
 * `execute` rebuilds its execution context, coerces the variables, evaluates the subscription
 * field's arguments (`after`, `where`) and collects the fields again; the compiled query does only
 * the resolving and completing, which, with 100,000 events for one subscriber, is most of the
 * service's CPU (test/bench/notes.md).
 *
 * A result with errors is thrown away and the event executed again by graphql's `execute`, so that
 * errors (messages, locations, paths, the data beside them) are graphql's own, byte for byte; the
 * resolvers of a change are pure reads of the event, so running them twice changes nothing. A
 * document that graphql-jit cannot compile is executed by `execute` every time.
 * (test/compiled-execution.test.ts compares both paths on many documents.)
 */
export function executeSelection(args: ExecutionArgs, rootValue: unknown): MaybePromise<ExecutionResult> {
  const compiled = compiledQueryOf(args.schema, args.document, args.operationName);
  if (compiled) {
    let result: MaybePromise<ExecutionResult> | undefined;
    try {
      result = compiled.query(rootValue, args.contextValue, args.variableValues);
    } catch {
      // A failure of the compiled code itself: graphql's `execute` says what it makes of the event.
    }
    if (result !== undefined) {
      if (!isPromise(result)) return result.errors === undefined ? result : executeGraphql(args, rootValue);
      return result.then(
        (settled) => (settled.errors === undefined ? settled : executeGraphql(args, rootValue)),
        () => executeGraphql(args, rootValue),
      );
    }
  }
  return executeGraphql(args, rootValue);
}

const executeGraphql = (args: ExecutionArgs, rootValue: unknown) => execute({ ...args, rootValue });

// Per document (the parsed document Yoga caches and hands to every subscriber of the same text),
// per schema and operation name: the compiled query, or null when it could not be compiled.
const compiledQueries = new WeakMap<
  DocumentNode,
  Map<string, { schema: GraphQLSchema; query: CompiledQuery | null }>
>();

/** The compiled query of `operationName` in `document`, or null when graphql-jit cannot compile it. */
export function compiledQueryOf(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
): CompiledQuery | null {
  let byOperation = compiledQueries.get(document);
  if (!byOperation) {
    byOperation = new Map();
    compiledQueries.set(document, byOperation);
  }
  const name = operationName ?? '';
  const known = byOperation.get(name);
  if (known && known.schema === schema) return known.query;
  let query: CompiledQuery | null = null;
  try {
    const compiled = compileQuery(schema, document, operationName ?? undefined);
    if (isCompiledQuery(compiled)) query = compiled;
  } catch {
    query = null;
  }
  byOperation.set(name, { schema, query });
  return query;
}

function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as Promise<T> | undefined)?.then === 'function';
}
