import {
  type DocumentNode,
  type ExecutionArgs,
  type ExecutionResult,
  execute,
  type GraphQLSchema,
  print,
} from 'graphql';
import type { CompiledQuery } from 'graphql-jit';

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
 *
 * graphql-jit (and the JSON-schema libraries it brings) is loaded when the first subscription
 * starts (src/server/shared-execution.ts calls loadCompiler), not at start: a service at rest does
 * not pay its memory. Events until it has loaded are executed by `execute`, which gives the same
 * results. Loading it at the first event instead cost a 100,000-row burst about 12 % of its
 * delivery: the import itself, and graphql's `execute` for every event until it was done.
 */
export function executeSelection(args: ExecutionArgs, rootValue: unknown): MaybePromise<ExecutionResult> {
  if (!jit) {
    void loadCompiler();
    return executeGraphql(args, rootValue);
  }
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

let jit: typeof import('graphql-jit') | undefined;
let loading: Promise<void> | undefined;

/** Loads graphql-jit once; executeSelection compiles from then on. */
export function loadCompiler(): Promise<void> {
  loading ??= import('graphql-jit').then(
    (module) => {
      jit = module;
    },
    () => {
      // Without the compiler every event is executed by graphql's `execute`; nothing else changes.
    },
  );
  return loading;
}

// Per parsed document: the compiled query of each operation name, for the schema it was made for.
// graphql-ws subscribers each parse their own document, so the compiled queries themselves are
// kept by document text, in a bounded map: subscribers of the same text share one compilation
// (1.5–3 ms each), and documents nobody sends any more are dropped from the least recently used.
const byDocument = new WeakMap<DocumentNode, Map<string, Compiled>>();
const byText = new Map<string, Compiled>();
export const COMPILED_QUERIES_KEPT = 500;

interface Compiled {
  readonly schema: GraphQLSchema;
  readonly query: CompiledQuery | null;
}

/**
 * The compiled query of `operationName` in `document`, or null when graphql-jit cannot compile it
 * (or is not loaded yet: see loadCompiler).
 */
export function compiledQueryOf(
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
): CompiledQuery | null {
  const compiler = jit;
  if (!compiler) return null;
  const name = operationName ?? '';
  let operations = byDocument.get(document);
  if (!operations) {
    operations = new Map();
    byDocument.set(document, operations);
  }
  let compiled = operations.get(name);
  if (compiled?.schema !== schema) {
    compiled = compiledByText(compiler, schema, document, operationName);
    operations.set(name, compiled);
  }
  return compiled.query;
}

function compiledByText(
  compiler: typeof import('graphql-jit'),
  schema: GraphQLSchema,
  document: DocumentNode,
  operationName: string | null | undefined,
): Compiled {
  const text = JSON.stringify([operationName ?? null, print(document)]);
  let compiled = byText.get(text);
  if (compiled?.schema === schema) {
    byText.delete(text);
    byText.set(text, compiled);
    return compiled;
  }
  let query: CompiledQuery | null = null;
  try {
    const made = compiler.compileQuery(schema, document, operationName ?? undefined);
    if (compiler.isCompiledQuery(made)) query = made;
  } catch {
    query = null;
  }
  compiled = { schema, query };
  byText.delete(text);
  byText.set(text, compiled);
  if (byText.size > COMPILED_QUERIES_KEPT) byText.delete(byText.keys().next().value as string);
  return compiled;
}

function isPromise<T>(value: MaybePromise<T>): value is Promise<T> {
  return typeof (value as Promise<T> | undefined)?.then === 'function';
}
