/**
 * A graphql-ws or graphql-sse sink that keeps each result's `data[field]` in `into.changes` and
 * every error, of a result or of the stream, in `into.errors`.
 */
export function collectingSink(into: { changes: unknown[]; errors: unknown[] }, field = 'orderChanged') {
  return {
    next: (result: any) =>
      result.errors ? into.errors.push(...result.errors) : into.changes.push(result.data[field]),
    error: (error: unknown) => into.errors.push(error),
    complete: () => {},
  };
}
