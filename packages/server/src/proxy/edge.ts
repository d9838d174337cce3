/**
 * What a listener answers itself, before routing: ACME HTTP-01 challenges (RFC 8555 §8.3) on any plain listener,
 * and, on a plain listener set to redirect, 308 to the same host and target over https (RFC 9110 §15.4.9: the
 * method and body are kept, unlike 301).
 */
import type { DownstreamRequest } from '../downstream/request.ts';
import type { DownstreamResponse } from '../downstream/response.ts';
import { hostOf, normaliseAuthority, Refused } from '../uri.ts';
import type { ChallengeAnswers } from '../acme/answers.ts';

export interface EdgeOptions {
  readonly challenges: ChallengeAnswers;
  /** The HTTPS port to redirect to (443 is left out of the URL); undefined: no redirect. */
  readonly redirectPort: () => number | undefined;
}

/** 'answered' when the request was answered here, 'pass' when the pipeline serves it. */
export function answerAtEdge(req: DownstreamRequest, res: DownstreamResponse, edge: EdgeOptions): 'answered' | 'pass' {
  if (req.method === 'GET' || req.method === 'HEAD') {
    const answer = edge.challenges.httpAnswer(req.url);
    if (answer !== undefined) {
      reply(res, 200, answer, ['content-type', 'application/octet-stream']);
      return 'answered';
    }
  }
  const port = edge.redirectPort();
  if (port === undefined) return 'pass';
  const location = httpsLocation(req, port);
  if (location === undefined) reply(res, 400, 'Bad Request: no valid Host to redirect to\n', []);
  else reply(res, 308, `Moved to ${location}\n`, ['location', location]);
  return 'answered';
}

/** https://host[:port]/target, from the Host field (or an absolute target); undefined when there is none usable. */
export function httpsLocation(req: DownstreamRequest, port: number): string | undefined {
  let authority = req.header('host');
  let target = req.url;
  if (!target.startsWith('/')) {
    if (!URL.canParse(target)) return undefined; // '*' (OPTIONS) or garbage
    const url = new URL(target);
    authority = url.host;
    target = `${url.pathname}${url.search}`;
  }
  if (authority === undefined) return undefined;
  const normal = normaliseAuthority(authority.trim());
  if (normal instanceof Refused || normal === '') return undefined;
  const host = hostOf(normal);
  return `https://${host}${port === 443 ? '' : `:${port}`}${target}`;
}

function reply(res: DownstreamResponse, status: number, body: string, headers: string[]): void {
  res.writeHead(status, [...headers, 'content-length', String(Buffer.byteLength(body)), 'cache-control', 'no-store']);
  res.end(body);
}
