import type { Plugin } from 'graphql-yoga';

const CODES: Record<number, string> = {
  400: 'BAD_REQUEST',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  406: 'NOT_ACCEPTABLE',
  409: 'CONFLICT',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
};

const MESSAGES: Record<number, string> = {
  415: 'Content-Type must be application/json (or application/graphql-response+json, application/x-www-form-urlencoded, multipart/form-data)',
};

/**
 * Yoga answers a POST with another Content-Type with an empty 415, and graphql-sse answers its
 * protocol mistakes ("Stream not found", a missing operation id) with errors without a code. Every
 * error a client gets carries `extensions.code`, so these get one from their status (and a message
 * when there was none). Streams and successful answers are left alone.
 */
export function useTransportErrorCodes(): Plugin {
  return {
    async onResponse({ request, response, setResponse }) {
      if (response.status < 400 || !new URL(request.url).pathname.startsWith('/graphql')) return;
      const code = CODES[response.status];
      if (!code) return;
      const type = response.headers.get('content-type') ?? '';
      if (type && !type.includes('json')) return;
      const text = await response.clone().text();
      let body: { errors?: { message?: string; extensions?: Record<string, unknown> }[] } | undefined;
      try {
        body = text
          ? JSON.parse(text)
          : { errors: [{ message: MESSAGES[response.status] ?? response.statusText }] };
      } catch {
        return;
      }
      if (!Array.isArray(body?.errors) || body.errors.every((error) => error.extensions?.code)) return;
      const errors = body.errors.map((error) => ({
        ...error,
        extensions: { ...error.extensions, code: error.extensions?.code ?? code },
      }));
      const headers = new Headers(response.headers);
      headers.set('content-type', 'application/json; charset=utf-8');
      headers.delete('content-length');
      setResponse(
        new Response(JSON.stringify({ ...body, errors }), {
          status: response.status,
          statusText: response.statusText,
          headers,
        }),
      );
    },
  };
}
