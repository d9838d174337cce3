/** The response every FulcrumError becomes, for plain requests (pipeline.failToProxy) and upgrades alike. */
import type { DownstreamResponse } from '../downstream/response.ts';
import type { FulcrumError } from '../errors.ts';

/** Status, a short text body naming the code and request id, never cached. */
export function writeErrorResponse(res: DownstreamResponse, error: FulcrumError, requestId: string): void {
  const body = `${error.status} ${error.message}\ncode: ${error.code}\nrequest-id: ${requestId}\n`;
  res.writeHead(error.status, [
    'content-type', 'text/plain; charset=utf-8',
    'content-length', String(Buffer.byteLength(body)),
    'x-request-id', requestId,
    'cache-control', 'no-store',
  ]);
  res.end(body);
}
