import {
  type Client,
  type ClientOptions,
  createClient as createSseClient,
  type RequestParams,
} from 'graphql-sse';
import { resumableOperation } from './operation.ts';
import { backoff, isRetryLater, iterateWith, type Sink, subscribeResuming } from './resume.ts';

type EventListeners = Parameters<Client['subscribe']>[2];

/**
 * The graphql-sse client with the same resuming as `createClient`: for every subscription that
 * declares `$after` and selects `cursor` on its root field, a re-subscription sends `after` = the
 * last cursor delivered to the sink; a refusal (`CURSOR_EXPIRED`) reaches the sink's `error` and
 * ends the subscription (`SERVICE_UNAVAILABLE` is retried instead). Both connection modes; options are graphql-sse's, and the ones given win (default: retry forever, with backoff).
 */
export function createSSEClient<SingleConnection extends boolean = false>(
  options: ClientOptions<SingleConnection>,
): Client<SingleConnection> {
  const retryAttempts = options.retryAttempts ?? Number.POSITIVE_INFINITY;
  const retry = options.retry ?? backoff;
  const client = createSseClient<SingleConnection>({ ...options, retryAttempts, retry });

  function subscribe<T>(request: RequestParams, sink: Sink<T>, on?: EventListeners): () => void {
    const operation = resumableOperation(request.query, request.operationName);
    if (!operation) return client.subscribe(request, sink as never, on as never);
    return subscribeResuming<T>(request, sink, {
      operation,
      subscribe: (params, inner) => client.subscribe(params as RequestParams, inner as never, on as never),
      retryable: (error, attempt) => attempt < retryAttempts && isRetryLater(error),
      wait: retry,
    });
  }

  return {
    subscribe: subscribe as Client<SingleConnection>['subscribe'],
    iterate: ((request: RequestParams, on?: EventListeners) =>
      iterateWith((sink) => subscribe(request, sink, on))) as Client<SingleConnection>['iterate'],
    dispose: () => client.dispose(),
  };
}
