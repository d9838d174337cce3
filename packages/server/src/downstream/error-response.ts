/**
 * The response every FulcrumError becomes, wherever it is answered: the pipeline's failToProxy, a refused upgrade,
 * and a request the connection refuses before any request object exists (a malformed head).
 */
import type { FulcrumError } from '../errors.ts';
import type { DownstreamResponse } from './response.ts';

/** Status, a short text body naming the code (and the request id when there is one), never cached. */
export function errorResponse(error: FulcrumError, requestId?: string): { headers: string[]; body: string } {
  const id = requestId === undefined ? '' : `request-id: ${requestId}\n`;
  const body = `${error.status} ${error.message}\ncode: ${error.code}\n${id}`;
  const headers = ['content-type', 'text/plain; charset=utf-8', 'content-length', String(Buffer.byteLength(body)), 'cache-control', 'no-store'];
  if (requestId !== undefined) headers.push('x-request-id', requestId);
  return { headers, body };
}

export function writeErrorResponse(res: DownstreamResponse, error: FulcrumError, requestId: string): void {
  const { headers, body } = errorResponse(error, requestId);
  res.writeHead(error.status, headers);
  res.end(body);
}
