import { type DocumentNode, getOperationAST } from 'graphql';
import { createHandler, TOKEN_HEADER_KEY, TOKEN_QUERY_KEY } from 'graphql-sse';
import type { Plugin, YogaServerInstance } from 'graphql-yoga';
import { EventStreamSink, emptyNextEvent } from './sse-delivery.ts';

type Enveloped = ReturnType<
  YogaServerInstance<Record<string, unknown>, Record<string, unknown>>['getEnveloped']
>;

type FetchAPI = YogaServerInstance<Record<string, unknown>, Record<string, unknown>>['fetchAPI'];
type Handler = ReturnType<typeof createHandler<Request, FetchAPI, OperationContext>>;

/** What graphql-sse hands onNext for each operation: where its results go. */
type OperationContext = { sink: EventStreamSink; placeholder: string };

const NO_OPERATION: DocumentNode = { kind: 'Document' as DocumentNode['kind'], definitions: [] };

/**
 * GraphQL over SSE: graphql-sse's handler, in both connection modes, mounted as Yoga's
 * `@graphql-yoga/plugin-graphql-sse` mounts it (the same onSubscribe through Yoga's envelop; that
 * plugin is these 30 lines, copied rather than wrapped to reach the handler's hooks), with two
 * changes.
 *
 * Refusals keep their errors. graphql-sse's handler takes a value for a finished result only if it
 * has a `data` key. An operation refused before it starts (an expired or malformed `after`, a wrong
 * variable, a syntax or validation error) is `{ errors }` without `data`, as the GraphQL spec wants,
 * so the handler took it for execution arguments and answered 400 "Unable to detect operation AST",
 * in both connection modes. Here every refusal comes out of execute/subscribe with a `data` key that
 * is not enumerable: the handler streams it as a result, and the client receives exactly
 * `{ errors }`, with their codes (test/clients/sse-errors.test.ts).
 *
 * Results are serialized once and paced by the client (src/server/sse-delivery.ts): graphql-sse's
 * fetch adapter (`graphql-sse/lib/use/fetch`, 40 lines) is replaced by one whose response body is
 * the event stream's EventStreamSink, which the operations sent to that stream reach through
 * graphql-sse's `context` and `onNext` hooks, and, in distinct connections mode, through the
 * shared execution's `direct` sends (src/server/shared-execution.ts).
 */
export function useGraphQLSSEWithErrors({
  endpoint = '/graphql/stream',
}: {
  endpoint?: string;
} = {}): Plugin {
  const serverContexts = new WeakMap<Request, Record<string, unknown>>();
  const sinks = new EventStreamSinks();
  let handle: (request: Request) => Promise<Response>;
  return {
    onYogaInit({ yoga }) {
      const handler = createHandler<Request, FetchAPI, OperationContext>({
        onSubscribe(req, params) {
          const enveloped = keepRefusals(
            yoga.getEnveloped({ ...serverContexts.get(req.raw), request: req.raw, params }),
          );
          const document = enveloped.parse(params.query);
          const errors = enveloped.validate(enveloped.schema, document);
          if (errors.length > 0) return { errors };
          return Promise.resolve(enveloped.contextFactory()).then((contextValue) => {
            const args = {
              schema: enveloped.schema,
              document,
              contextValue,
              variableValues: params.variables,
              operationName: params.operationName,
            };
            const operation = getOperationAST(document, params.operationName);
            if (operation?.operation !== 'subscription') return enveloped.execute(args) as never;
            // Distinct connections mode: the stream's one subscription writes to it directly.
            const direct = sinks.ownSink(req.raw)?.direct;
            return enveloped.subscribe(direct ? { ...args, rootValue: { direct } } : args) as never;
          });
        },
        context: (req, params) => {
          const id = params.extensions?.operationId;
          return {
            sink: sinks.ofOperation(req),
            placeholder: emptyNextEvent(typeof id === 'string' ? id : undefined),
          };
        },
        onNext: (ctx, _req, result) => ctx.sink.accept(ctx.placeholder, result) as never,
      });
      handle = (request) => sinks.serve(request, handler, yoga.fetchAPI);
    },
    onRequest({ request, endResponse, serverContext }) {
      const [path] = request.url.split('?');
      if (!path?.endsWith(endpoint)) return;
      serverContexts.set(request, serverContext as Record<string, unknown>);
      return handle(request).then(endResponse);
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

/**
 * The sink of every event stream being served. In distinct connections mode a stream is its own
 * request; in single connection mode, operations are POSTed with the token of the stream (PUT to
 * reserve it, then opened by a `text/event-stream` request) and their events go to that stream, so
 * its sink is found by token, as graphql-sse finds the stream (header, else `token` parameter).
 */
class EventStreamSinks {
  private readonly ofRequest = new WeakMap<Request, EventStreamSink>();
  private readonly byToken = new Map<string, EventStreamSink>();

  /** The sink of an event stream request itself (distinct connections mode). */
  ownSink(request: Request): EventStreamSink | undefined {
    return this.ofRequest.get(request);
  }

  ofOperation(req: {
    raw: Request;
    headers: { get(name: string): string | null | undefined };
  }): EventStreamSink {
    const own = this.ofRequest.get(req.raw);
    if (own) return own;
    const token = tokenOf(req.raw);
    if (token === null) return new EventStreamSink();
    let sink = this.byToken.get(token);
    if (!sink) {
      sink = new EventStreamSink();
      this.byToken.set(token, sink);
    }
    return sink;
  }

  /** graphql-sse's fetch adapter (graphql-sse/lib/use/fetch), with the stream's events through its sink. */
  async serve(request: Request, handler: Handler, api: FetchAPI): Promise<Response> {
    const eventStream = request.headers.get('accept') === 'text/event-stream';
    const token = eventStream ? tokenOf(request) : null;
    const sink = eventStream
      ? (token !== null && this.byToken.get(token)) || new EventStreamSink()
      : undefined;
    if (sink) this.ofRequest.set(request, sink);
    const [body, init] = await handler({
      method: request.method,
      url: request.url,
      headers: request.headers,
      body: () => request.text(),
      raw: request,
      context: api,
    });
    if (!body || typeof body === 'string') return new api.Response(body, init);
    if (!sink) throw new Error('graphql-sse answered a request without an event stream with one');
    if (token !== null && !this.byToken.has(token)) this.byToken.set(token, sink);
    sink.onEnd = () => {
      if (token !== null && this.byToken.get(token) === sink) this.byToken.delete(token);
    };
    sink.attach(body);
    if (request.signal.aborted) sink.readable.destroy();
    else request.signal.addEventListener('abort', () => sink.readable.destroy(), { once: true });
    return new api.Response(sink.readable as never, init);
  }
}

function tokenOf(request: Request): string | null {
  const header = request.headers.get(TOKEN_HEADER_KEY);
  if (header) return header;
  return new URL(request.url, 'http://localhost/').searchParams.get(TOKEN_QUERY_KEY);
}
