/**
 * Generated HTTP/1.1 request streams for the differential framing tests (issue 13): heads and bodies mutated
 * where parsers are known to disagree (Transfer-Encoding and Content-Length values and duplicates, chunk-size
 * lines and extensions, bare LF and CR, whitespace, obs-fold, fields nominated by Connection, HTTP/1.0),
 * pipelined two or three to a stream and cut into pieces as a socket may deliver them. Seeded and reproducible:
 * `FULCRUM_FUZZ_SEED` overrides the seed. The known attack shapes are listed by hand beside the generated ones.
 *
 * Targets name the case: request k of case N asks for /cN/rk, and a request hidden in a body for /cN/s, so that
 * whatever reaches a backend can be traced to the case that sent it.
 */
import { chunkedBody, Draft, field, pieces, pipelineLength, type Prng } from './framing-draft.ts';
import { FRAMING_MUTATIONS, type Mutation } from './framing-mutations.ts';

export { fuzzSeed, Prng } from './framing-draft.ts';

export interface RequestCase {
  readonly id: number;
  /** What was mutated, for grouping failures: e.g. `te-value:chunked, identity`. */
  readonly labels: readonly string[];
  /** The stream, in the pieces it is fed or written in. */
  readonly pieces: readonly Buffer[];
  readonly bytes: Buffer;
  /** The method of each request as generated (what a client would expect answers to). */
  readonly methods: readonly string[];
  /** Whether the stream opens a tunnel (Upgrade): end-to-end tests leave those to the upgrade tests. */
  readonly upgrade: boolean;
}

/** A request hidden in a body: where it surfaces as a request of its own, a parser was fooled. */
export const smuggled = (id: number): string => `GET /c${id}/s HTTP/1.1\r\nHost: x.example\r\n\r\n`;

type Shape = 'none' | 'length' | 'chunked' | 'unframed-body';

/** One generated request, as a draft: its head fields and its body (already framed). */
function requestDraft(rng: Prng, id: number, index: number, labels: string[]): { draft: Draft; method: string; upgrade: boolean } {
  const shape = rng.weighted<Shape>([
    ['none', 30],
    ['length', 35],
    ['chunked', 30],
    ['unframed-body', 5],
  ]);
  const method = shape === 'none' ? rng.pick(['GET', 'GET', 'HEAD', 'DELETE', 'OPTIONS']) : rng.pick(['POST', 'POST', 'PUT', 'PATCH']);
  const draft = new Draft(`${method} /c${id}/r${index} HTTP/1.1`);
  draft.fields.push(field('Host', 'x.example'));
  if (rng.chance(0.3)) draft.fields.push(field('X-Pad', rng.alnum(rng.int(1, 12))));
  const data = payload(rng, id);
  switch (shape) {
    case 'length':
      draft.fields.push(field('Content-Length', String(data.length)));
      draft.body = data;
      break;
    case 'chunked':
      draft.fields.push(field('Transfer-Encoding', 'chunked'));
      draft.body = chunkedBody(rng, data, labels);
      break;
    case 'unframed-body':
      labels.push('unframed-body');
      draft.body = data;
      break;
    case 'none':
      break;
  }
  if (rng.chance(0.2)) draft.fields.push(field('Accept', '*/*'));
  let upgrade = false;
  for (let n = rng.weighted([[0, 45], [1, 35], [2, 15], [3, 5]]); n > 0; n--) {
    const mutation = rng.pick(REQUEST_MUTATIONS);
    const label = mutation(draft, rng);
    if (label === undefined) continue;
    labels.push(label);
    if (label === 'upgrade') upgrade = true;
  }
  return { draft, method, upgrade };
}

/** A body: random bytes, or (often) bytes that are themselves a request, the smuggler's payload. */
function payload(rng: Prng, id: number): Buffer {
  if (rng.chance(0.35)) return Buffer.from(rng.alnum(rng.int(0, 4)) + smuggled(id), 'latin1');
  return Buffer.from(rng.alnum(rng.weighted([[0, 10], [rng.int(1, 9), 50], [rng.int(10, 60), 40]])), 'latin1');
}

/** Mutations that only a request head can take (Host, version, request line, Expect, Upgrade). */
const REQUEST_ONLY: readonly Mutation[] = [
  (d, rng) => {
    const f = d.fields[0];
    if (f === undefined) return undefined;
    f.name = `${rng.pick([' ', '\t'])}${f.name}`;
    return 'ws-first-field-line';
  },
  (d, rng) => {
    const version = rng.pick(['HTTP/1.0', 'HTTP/1.0', 'HTTP/1.2', 'HTTP/2.0', 'HTTP/0.9', 'http/1.1', 'HTTP/1.1 ', 'HTTP/1.10']);
    d.startLine = d.startLine.replace(/ HTTP\/1\.1$/, ` ${version}`);
    if (version === 'HTTP/1.0' && rng.chance(0.5)) d.fields.push(field('Connection', 'keep-alive'));
    return `version:${JSON.stringify(version)}`;
  },
  (d, rng) => {
    const kind = rng.pick(['missing', 'duplicate', 'empty']);
    const i = d.fields.findIndex((f) => f.name === 'Host');
    if (i < 0) return undefined;
    if (kind === 'missing') d.fields.splice(i, 1);
    else if (kind === 'duplicate') d.insert(rng, field('Host', 'y.example'));
    else d.fields[i]!.value = '';
    return `host-${kind}`;
  },
  (d, rng) => {
    if (d.body.length === 0) return undefined;
    d.insert(rng, field('Expect', '100-continue'));
    return 'expect-continue';
  },
  (d, rng) => {
    d.insert(rng, field('Connection', 'upgrade'));
    d.insert(rng, field('Upgrade', 'h2c'));
    return 'upgrade';
  },
  (d, rng) => {
    const variant = rng.pick(['double-space', 'tab', 'lower-method']);
    if (variant === 'double-space') d.startLine = d.startLine.replace(' ', '  ');
    else if (variant === 'tab') d.startLine = d.startLine.replace(' ', '\t');
    else d.startLine = d.startLine.replace(/^\S+/, (m) => m.toLowerCase());
    return `request-line:${variant}`;
  },
];

/** Framing mutations weigh more than the request-only ones: they are what this corpus is for. */
const REQUEST_MUTATIONS: readonly Mutation[] = [...FRAMING_MUTATIONS, ...FRAMING_MUTATIONS, ...REQUEST_ONLY];

/** One generated stream of one to three requests. */
export function requestCase(rng: Prng, id: number): RequestCase {
  const labels: string[] = [];
  const count = pipelineLength(rng);
  const methods: string[] = [];
  const parts: Buffer[] = [];
  let upgrade = false;
  for (let i = 0; i < count; i++) {
    const r = requestDraft(rng, id, i, labels);
    parts.push(r.draft.render());
    methods.push(r.method);
    upgrade ||= r.upgrade;
  }
  if (count > 1) labels.push(`pipeline:${count}`);
  let bytes = Buffer.concat(parts);
  if (rng.chance(0.06)) {
    bytes = bytes.subarray(0, rng.int(1, bytes.length - 1));
    labels.push('truncated');
  }
  return { id, labels, pieces: pieces(rng, bytes, labels), bytes, methods, upgrade };
}

export function requestCorpus(rng: Prng, firstId: number, count: number): RequestCase[] {
  return Array.from({ length: count }, (_, i) => requestCase(rng, firstId + i));
}

/** The attack shapes issue 13 names, written by hand: each is a case of its own. */
export function requestAttacks(firstId: number): RequestCase[] {
  const shapes: Array<[string, (id: number) => string]> = [
    ['connection: content-length, body is a request', (id) => post(id, ['Connection: content-length', `Content-Length: ${smuggled(id).length}`], smuggled(id))],
    ['connection: Content-Length, keep-alive', (id) => post(id, ['Connection: keep-alive, Content-Length', `Content-Length: ${smuggled(id).length}`], smuggled(id))],
    ['connection: transfer-encoding, chunked body', (id) => post(id, ['Connection: transfer-encoding', 'Transfer-Encoding: chunked'], chunk(smuggled(id)))],
    ['connection: host', (id) => `GET /c${id}/r0 HTTP/1.1\r\nHost: x.example\r\nConnection: host\r\n\r\n`],
    ['transfer-encoding: chunked + content-length', (id) => post(id, ['Transfer-Encoding: chunked', 'Content-Length: 4'], chunk(smuggled(id)))],
    ['content-length + transfer-encoding: chunked', (id) => post(id, ['Content-Length: 4', 'Transfer-Encoding: chunked'], chunk(smuggled(id)))],
    ['transfer-encoding: chunked, identity', (id) => post(id, ['Transfer-Encoding: chunked, identity'], chunk(smuggled(id)))],
    ['transfer-encoding: identity, chunked', (id) => post(id, ['Transfer-Encoding: identity, chunked'], chunk('hello'))],
    ['transfer-encoding: xchunked', (id) => post(id, ['Transfer-Encoding: xchunked'], chunk(smuggled(id)))],
    ['two transfer-encoding fields', (id) => post(id, ['Transfer-Encoding: chunked', 'Transfer-Encoding: identity'], chunk('hello'))],
    ['duplicate content-length, equal', (id) => post(id, ['Content-Length: 5', 'Content-Length: 5'], 'hello')],
    ['duplicate content-length, unequal', (id) => post(id, ['Content-Length: 5', 'Content-Length: 4'], 'hello')],
    ['content-length list', (id) => post(id, ['Content-Length: 5, 5'], 'hello')],
    ['content-length with a leading +', (id) => post(id, ['Content-Length: +5'], 'hello')],
    ['content-length with spaces', (id) => post(id, ['Content-Length:   5  '], 'hello')],
    ['content-length overflowing 2^64', (id) => post(id, ['Content-Length: 18446744073709551621'], 'hello')],
    ['chunk size with 0x', (id) => post(id, ['Transfer-Encoding: chunked'], '0x5\r\nhello\r\n0\r\n\r\n')],
    ['chunk size with a leading space', (id) => post(id, ['Transfer-Encoding: chunked'], ' 5\r\nhello\r\n0\r\n\r\n')],
    ['chunk size with a trailing space', (id) => post(id, ['Transfer-Encoding: chunked'], '5 \r\nhello\r\n0\r\n\r\n')],
    ['chunk size overflowing 2^64', (id) => post(id, ['Transfer-Encoding: chunked'], `10000000000000005\r\nhello\r\n0\r\n\r\n${smuggled(id)}`)],
    ['chunk size of 20 hex digits', (id) => post(id, ['Transfer-Encoding: chunked'], `fffffffffffffffffff\r\nhello\r\n0\r\n\r\n`)],
    ['chunk extension with a quoted CRLF', (id) => post(id, ['Transfer-Encoding: chunked'], `5;a="x\r\n0\r\n\r\n${smuggled(id)}"\r\nhello\r\n0\r\n\r\n`)],
    ['chunk extension, bare LF after the size', (id) => post(id, ['Transfer-Encoding: chunked'], `5;a=b\nhello\r\n0\r\n\r\n`)],
    ['chunk data not followed by CRLF', (id) => post(id, ['Transfer-Encoding: chunked'], `5\r\nhelloXX0\r\n\r\n`)],
    ['last chunk with a content-length trailer', (id) => post(id, ['Transfer-Encoding: chunked'], `5\r\nhello\r\n0\r\nContent-Length: 40\r\n\r\n`)],
    ['LF-only line endings', (id) => `POST /c${id}/r0 HTTP/1.1\nHost: x.example\nContent-Length: 5\n\nhello`],
    ['a bare LF between fields', (id) => `POST /c${id}/r0 HTTP/1.1\r\nHost: x.example\nContent-Length: 5\r\n\r\nhello`],
    ['a bare CR between fields', (id) => `POST /c${id}/r0 HTTP/1.1\r\nHost: x.example\rContent-Length: 5\r\n\r\nhello`],
    ['LF-only chunked body', (id) => post(id, ['Transfer-Encoding: chunked'], '5\nhello\n0\n\n')],
    ['obs-fold on transfer-encoding', (id) => post(id, ['Transfer-Encoding: identity', ' chunked', 'Content-Length: 3'], chunk(smuggled(id)))],
    ['obs-fold before transfer-encoding value', (id) => post(id, ['Transfer-Encoding:', ' chunked'], chunk('hello'))],
    ['space before the colon of transfer-encoding', (id) => post(id, ['Transfer-Encoding : chunked', `Content-Length: ${chunk('hello').length}`], chunk('hello'))],
    ['HTTP/1.0 with transfer-encoding', (id) => `POST /c${id}/r0 HTTP/1.0\r\nHost: x.example\r\nTransfer-Encoding: chunked\r\n\r\n${chunk('hello')}`],
    ['HTTP/1.0 keep-alive with transfer-encoding', (id) => `POST /c${id}/r0 HTTP/1.0\r\nHost: x.example\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n\r\n${chunk('hello')}${smuggled(id)}`],
    ['GET with a body that is a request', (id) => `GET /c${id}/r0 HTTP/1.1\r\nHost: x.example\r\nContent-Length: ${smuggled(id).length}\r\n\r\n${smuggled(id)}`],
    ['pipeline after a body shorter than sent', (id) => post(id, ['Content-Length: 2'], `he${smuggled(id)}`)],
    ['expect 100-continue with a body that is a request', (id) => post(id, ['Expect: 100-continue', `Content-Length: ${smuggled(id).length}`], smuggled(id))],
    ['transfer-encoding: chunked followed by VT', (id) => post(id, ['Transfer-Encoding: chunked\x0b'], chunk(smuggled(id)))],
    ['content-length followed by NBSP', (id) => post(id, ['Content-Length: 5\xa0'], 'hello')],
    ['chunk size followed by VT', (id) => post(id, ['Transfer-Encoding: chunked'], '5\x0b\r\nhello\r\n0\r\n\r\n')],
    ['transfer-encoding: chunked, chunked', (id) => post(id, ['Transfer-Encoding: chunked, chunked'], chunk(chunk(smuggled(id))))],
    ['trailer line ended by a bare LF swallows the next request', (id) => post(id, ['Transfer-Encoding: chunked'], `5\r\nhello\r\n0\r\nX-T: 1\n\n${smuggled(id)}`)],
    ['NUL in a field value', (id) => post(id, ['X-A: a\x00b', 'Content-Length: 5'], 'hello')],
  ];
  return shapes.map(([name, render], i) => {
    const id = firstId + i;
    const bytes = Buffer.from(render(id), 'latin1');
    return { id, labels: [`attack:${name}`], pieces: [bytes], bytes, methods: ['POST'], upgrade: false };
  });
}

function post(id: number, fields: readonly string[], body: string): string {
  return `POST /c${id}/r0 HTTP/1.1\r\nHost: x.example\r\n${fields.map((f) => `${f}\r\n`).join('')}\r\n${body}`;
}

function chunk(data: string): string {
  return `${data.length.toString(16)}\r\n${data}\r\n0\r\n\r\n`;
}
