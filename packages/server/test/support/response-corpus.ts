/**
 * Generated responses of a hostile backend, for the differential framing tests (issue 13): the framing
 * mutations of requests (framing-mutations.ts) plus what only responses have: 1xx before the final response,
 * 204 and 304 with a body, bytes after the end, HEAD responses, bodies read until close, odd status lines.
 * A response body often holds a second response: where it is taken for the answer to the next request, the
 * connection was desynchronised.
 */
import { chunkedBody, Draft, field, pieces, type Prng } from './framing-draft.ts';
import { FRAMING_MUTATIONS, type Mutation } from './framing-mutations.ts';

export interface ResponseCase {
  readonly id: number;
  readonly labels: readonly string[];
  readonly pieces: readonly Buffer[];
  readonly bytes: Buffer;
  /** The request was HEAD: the response has no body whatever its fields say. */
  readonly isHead: boolean;
  /** The backend closes the connection after sending (EOF ends a body read until close). */
  readonly close: boolean;
}

/** A response hidden in a body or sent after the end: the poison of a response desync. */
export const EVIL = 'HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nEVIL';

const REASONS: Readonly<Record<number, string>> = { 200: 'OK', 201: 'Created', 204: 'No Content', 206: 'Partial Content', 301: 'Moved Permanently', 304: 'Not Modified', 404: 'Not Found', 500: 'Internal Server Error' };

type Shape = 'length' | 'chunked' | 'until-close' | 'none';

const RESPONSE_ONLY: readonly Mutation[] = [
  (d, rng) => {
    // 204 and 304 never have a body (RFC 9112 §6.3); a backend that sends one anyway.
    const status = rng.pick([204, 304]);
    d.startLine = `HTTP/1.1 ${status} ${REASONS[status]}`;
    return `no-body-status:${status}`;
  },
  (d, rng) => {
    const line = rng.pick(['HTTP/1.1 200', 'HTTP/1.1 200 ', 'HTTP/1.1  200 OK', 'HTTP/1.1 2000 OK', 'HTTP/1.1 099 Low', 'HTTP/1.1 200 O\x01K', 'HTTP/1.2 200 OK', 'HTTP/2 200 OK', 'http/1.1 200 OK', 'HTTP/1.1 600 Odd', 'HTTP/1.0 200 OK']);
    d.startLine = line;
    return `status-line:${JSON.stringify(line)}`;
  },
];

const RESPONSE_MUTATIONS: readonly Mutation[] = [...FRAMING_MUTATIONS, ...FRAMING_MUTATIONS, ...RESPONSE_ONLY];

/** Interim responses sent before the final one (RFC 9110 §15.2). */
const INTERIM = ['HTTP/1.1 100 Continue\r\n\r\n', 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n', 'HTTP/1.1 102 Processing\r\n\r\n', 'HTTP/1.1 100 Continue\r\nContent-Length: 4\r\n\r\n', 'HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n'];

/** Bytes after the end of the response: whoever takes them for the next response is desynchronised. */
const STRAY = ['X', '\r\n', EVIL, 'garbage\r\n\r\n', '\r\n\r\n'];

export function responseCase(rng: Prng, id: number): ResponseCase {
  const labels: string[] = [];
  const shape = rng.weighted<Shape>([['length', 55], ['chunked', 30], ['until-close', 10], ['none', 5]]);
  const status = shape === 'none' ? rng.pick([204, 304]) : rng.pick([200, 200, 200, 201, 206, 301, 404, 500]);
  const d = new Draft(`HTTP/1.1 ${status} ${REASONS[status]}`);
  if (rng.chance(0.5)) d.fields.push(field('Content-Type', 'text/plain'));
  const data = Buffer.from(rng.chance(0.25) ? `${rng.alnum(rng.int(0, 3))}${EVIL}` : rng.alnum(rng.int(0, 40)), 'latin1');
  if (shape === 'length') {
    d.fields.push(field('Content-Length', String(data.length)));
    d.body = data;
  } else if (shape === 'chunked') {
    d.fields.push(field('Transfer-Encoding', 'chunked'));
    d.body = chunkedBody(rng, data, labels);
  } else if (shape === 'until-close') {
    labels.push('until-close');
    d.body = data;
  }
  if (rng.chance(0.2)) d.fields.push(field('Cache-Control', 'no-store'));
  for (let n = rng.weighted([[0, 40], [1, 40], [2, 15], [3, 5]]); n > 0; n--) {
    const label = rng.pick(RESPONSE_MUTATIONS)(d, rng);
    if (label !== undefined) labels.push(label);
  }
  let interim = '';
  if (rng.chance(0.12)) {
    interim = rng.pick(INTERIM) + (rng.chance(0.3) ? rng.pick(INTERIM) : '');
    labels.push(`interim:${JSON.stringify(interim.slice(9, 12))}`);
  }
  let bytes = Buffer.concat([Buffer.from(interim, 'latin1'), d.render()]);
  if (rng.chance(0.15)) {
    const stray = rng.pick(STRAY);
    bytes = Buffer.concat([bytes, Buffer.from(stray, 'latin1')]);
    labels.push(`stray:${JSON.stringify(stray.slice(0, 12))}`);
  }
  let close = shape === 'until-close' ? rng.chance(0.9) : rng.chance(0.3);
  if (rng.chance(0.05)) {
    bytes = bytes.subarray(0, rng.int(1, bytes.length - 1));
    labels.push('truncated');
    close = true;
  }
  const isHead = rng.chance(0.12);
  if (isHead) labels.push('head-request');
  if (close) labels.push('backend-closes');
  return { id, labels, pieces: pieces(rng, bytes, labels), bytes, isHead, close };
}

export function responseCorpus(rng: Prng, firstId: number, count: number): ResponseCase[] {
  return Array.from({ length: count }, (_, i) => responseCase(rng, firstId + i));
}

/** The hostile-backend shapes issue 13 names, by hand. */
export function responseAttacks(firstId: number): ResponseCase[] {
  const shapes: Array<[string, string, { isHead?: boolean; close?: boolean }?]> = [
    ['204 with a content-length body', 'HTTP/1.1 204 No Content\r\nContent-Length: 4\r\n\r\nEVIL'],
    ['204 with a response after it', `HTTP/1.1 204 No Content\r\n\r\n${EVIL}`],
    ['304 with a chunked body', 'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nEVIL\r\n0\r\n\r\n'],
    ['200 then stray bytes', `HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok${EVIL}`],
    ['duplicate content-length, equal', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok'],
    ['duplicate content-length, unequal', `HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: ${EVIL.length + 2}\r\n\r\nok${EVIL}`],
    ['transfer-encoding and content-length', `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\nok\r\n0\r\n\r\n`],
    ['transfer-encoding: chunked, identity', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\n\r\n2\r\nok\r\n0\r\n\r\n', { close: true }],
    ['transfer-encoding: xchunked', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: xchunked\r\n\r\n2\r\nok\r\n0\r\n\r\n', { close: true }],
    ['content-length with a leading +', 'HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok'],
    ['HEAD answered with a body', `HTTP/1.1 200 OK\r\nContent-Length: ${EVIL.length}\r\n\r\n${EVIL}`, { isHead: true }],
    ['HEAD answered chunked, no body', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n', { isHead: true }],
    ['100 continue then 200', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'],
    ['101 to a plain request', 'HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: h2c\r\n\r\n'],
    ['chunk size overflowing 2^64', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000000000000002\r\nok\r\n0\r\n\r\n'],
    ['chunk extension with a quoted CRLF', `HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2;a="x\r\n0\r\n\r\n${EVIL}"\r\nok\r\n0\r\n\r\n`],
    ['LF-only head', 'HTTP/1.1 200 OK\nContent-Length: 2\n\nok'],
    ['obs-fold on transfer-encoding', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n', { close: true }],
    ['HTTP/1.0 keep-alive, length', 'HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nok'],
    ['HTTP/1.0 with transfer-encoding', 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n', { close: true }],
    ['connection: content-length', 'HTTP/1.1 200 OK\r\nConnection: content-length\r\nContent-Length: 2\r\n\r\nok'],
  ];
  return shapes.map(([name, text, opts], i) => {
    const bytes = Buffer.from(text, 'latin1');
    return { id: firstId + i, labels: [`attack:${name}`], pieces: [bytes], bytes, isHead: opts?.isHead ?? false, close: opts?.close ?? false };
  });
}
