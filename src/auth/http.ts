import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { type Access, AuthError, OPEN_ACCESS } from './access.ts';
import type { Authenticate } from './verify-token.ts';

const CHALLENGE = { 'www-authenticate': 'Bearer' };

/**
 * Authentication over HTTP. The SSE endpoint and REST are checked as each request arrives (401 or
 * 403 before any stream or body is read); `/graphql` when its context is built, so that GraphiQL's
 * page itself needs no token. `/health`, `/ready`, `/metrics` and the dashboard's files never do.
 */
export function createHttpAuth(authenticate: Authenticate | undefined) {
  const checked = new WeakMap<Request, Access>();

  async function check(request: Request): Promise<Access> {
    if (!authenticate) return OPEN_ACCESS;
    const known = checked.get(request);
    if (known) return known;
    const token = await authenticate(request.headers.get('authorization'));
    const access = { ...token, streamsEndAt: token.expiresAt };
    checked.set(request, access);
    return access;
  }

  const plugin: Plugin = {
    async onRequest({ request, url, endResponse }) {
      if (!authenticate || request.method === 'OPTIONS') return;
      const rest = url.pathname === '/api/orders' || url.pathname.startsWith('/api/');
      if (!rest && !url.pathname.startsWith('/graphql/stream')) return;
      try {
        await check(request);
      } catch (error) {
        if (!(error instanceof AuthError)) throw error;
        endResponse(rest ? restRefusal(error) : graphqlRefusal(error));
      }
    },
  };

  return {
    plugin,
    /** The caller of an HTTP request: for `/graphql`, a refusal is a GraphQL error with its status. */
    async accessOf(request: Request): Promise<Access> {
      try {
        return await check(request);
      } catch (error) {
        if (!(error instanceof AuthError)) throw error;
        throw createGraphQLError(error.message, {
          extensions: { code: error.code, http: { status: error.status, headers: CHALLENGE } },
        });
      }
    },
  };
}

function restRefusal(error: AuthError): Response {
  return Response.json(
    { error: error.code, message: error.message },
    { status: error.status, headers: CHALLENGE },
  );
}

function graphqlRefusal(error: AuthError): Response {
  return Response.json(
    { errors: [{ message: error.message, extensions: { code: error.code } }] },
    { status: error.status, headers: CHALLENGE },
  );
}
