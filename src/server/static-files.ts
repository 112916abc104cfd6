import { promises as fs } from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../project-root.ts';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.map': 'application/json',
  '.woff2': 'font/woff2',
};

export const webRoot = path.join(projectRoot, 'web', 'dist');

/** Serves the built dashboard; `/` is its index.html. Returns undefined when no file matches. */
export function createStaticHandler(root = webRoot) {
  return async (request: Request, url: URL): Promise<Response | undefined> => {
    if (request.method !== 'GET' && request.method !== 'HEAD') return undefined;
    const relative = url.pathname === '/' ? 'index.html' : decodeURIComponent(url.pathname.slice(1));
    const file = path.resolve(root, relative);
    if (!file.startsWith(root + path.sep)) return undefined;
    const body = await fs.readFile(file).catch(() => undefined);
    if (!body) return url.pathname === '/' ? placeholder() : undefined;
    const immutable = relative.startsWith('assets/');
    return new Response(request.method === 'HEAD' ? null : body, {
      headers: {
        'content-type': CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream',
        'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      },
    });
  };
}

function placeholder(): Response {
  return new Response(
    '<!doctype html><title>Realtime Orders</title><h1>Realtime Orders</h1>' +
      '<p>The dashboard is not built yet (<code>npm run build:web</code>). Meanwhile: <a href="/graphql">GraphiQL</a>.</p>',
    { headers: { 'content-type': 'text/html; charset=utf-8' } },
  );
}
