/**
 * The dashboard's files (packages/dashboard/dist, built by `npm run build:dashboard`) served by the admin listener:
 * GET / is index.html, GET /assets/* the built assets. Read-only, no token, like the other GETs. A path that
 * decodes badly or climbs with `..` is refused; a missing build answers 404 JSON that says how to make one.
 */
import { readFile } from 'node:fs/promises';
import type http from 'node:http';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** packages/dashboard/dist, found from this file (packages/server/src/admin/static.ts); FULCRUM_DASHBOARD_DIR overrides it. */
export const DEFAULT_DASHBOARD_DIR = fileURLToPath(new URL('../../../dashboard/dist', import.meta.url));

const TYPES: Record<string, string> = {
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

/** True when the admin listener serves this path from the dashboard's files. */
export function isDashboardPath(path: string): boolean {
  return path === '/' || path === '/index.html' || path.startsWith('/assets/');
}

/** The file under `root` for a request path, or undefined when the path is malformed or leaves `root`. */
export function dashboardFile(root: string, path: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0') || decoded.includes('\\') || decoded.split('/').includes('..')) return undefined;
  const relative = decoded === '/' ? 'index.html' : decoded.slice(1);
  const file = resolve(join(root, relative));
  return file.startsWith(resolve(root) + sep) ? file : undefined;
}

export async function serveDashboard(root: string, path: string, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const file = dashboardFile(root, path);
  if (file === undefined) return sendError(res, 400, 'FUL_ERR_ADMIN_BAD_REQUEST', `malformed path: ${path}`);
  let body: Buffer;
  try {
    body = await readFile(file);
  } catch {
    const message = path === '/' || path === '/index.html'
      ? `the dashboard is not built (no ${file}): run npm run build:dashboard`
      : `no such resource: ${path}`;
    return sendError(res, 404, 'FUL_ERR_ADMIN_NOT_FOUND', message);
  }
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'content-length': body.length,
    // Vite puts a content hash in asset names: they never change; index.html does.
    'cache-control': path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    'x-content-type-options': 'nosniff',
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

function sendError(res: http.ServerResponse, status: number, code: string, message: string): void {
  const text = JSON.stringify({ error: { code, message } });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}
