/**
 * The strict HTTP/1.1 request head parser of Fulcrum's downstream side (RFC 9112), facing untrusted clients.
 * Whatever could be read two ways by two servers is refused (400): Transfer-Encoding with Content-Length, or on
 * HTTP/1.0, or with any coding but chunked alone; conflicting lengths; a missing or repeated Host on HTTP/1.1;
 * obs-fold, bad names, control characters; a target with spaces or controls.
 */
import type { Framing } from './body-decoder.ts';
import { Http1ParseError } from './errors.ts';
import { hasToken, parseFields, type Fields } from './fields.ts';

export interface RequestHead {
  readonly method: string;
  /** The request target as sent (origin, absolute or asterisk form; interpreted by the pipeline). */
  readonly target: string;
  /** 1 for HTTP/1.1, 0 for HTTP/1.0. */
  readonly minor: 0 | 1;
  readonly fields: Fields;
  readonly framing: Framing;
  /** Whether the client wants the connection kept after this exchange. */
  readonly keepAlive: boolean;
  readonly expectContinue: boolean;
  /** An Upgrade request (Connection: upgrade with an Upgrade field): tunnelled, not proxied. */
  readonly upgrade: boolean;
}

/** Status for a head that parsed but cannot be served as asked. */
export class UnsupportedExpectation extends Http1ParseError {}

const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const TARGET = /^[\x21-\x7e]+$/;

export function parseRequestHead(text: string): RequestHead {
  const lines = text.split('\r\n');
  const requestLine = lines[0]!;
  const sp1 = requestLine.indexOf(' ');
  const sp2 = requestLine.lastIndexOf(' ');
  if (sp1 <= 0 || sp2 === sp1) throw new Http1ParseError('malformed request line');
  const method = requestLine.slice(0, sp1);
  const target = requestLine.slice(sp1 + 1, sp2);
  const version = requestLine.slice(sp2 + 1);
  if (!METHOD.test(method)) throw new Http1ParseError('invalid method');
  if (!TARGET.test(target)) throw new Http1ParseError('invalid request target');
  if (version !== 'HTTP/1.1' && version !== 'HTTP/1.0') throw new Http1ParseError('unsupported HTTP version');
  const minor = version === 'HTTP/1.1' ? 1 : 0;
  const fields = parseFields(lines, 1);
  if (minor === 1 ? fields.hostCount !== 1 : fields.hostCount > 1) throw new Http1ParseError('missing or repeated Host');
  let framing: Framing;
  if (fields.transferEncoding) {
    // RFC 9112 §6.1, §6.3: refused rather than guessed, since a server behind could frame it otherwise.
    if (fields.contentLength >= 0) throw new Http1ParseError('both transfer-encoding and content-length');
    if (minor === 0) throw new Http1ParseError('transfer-encoding in an HTTP/1.0 request');
    // Only chunked: Fulcrum decodes it and frames the body anew, so another coding would reach the backend unnamed.
    if (fields.transferCodings.length !== 1 || !fields.chunked) throw new Http1ParseError('unsupported transfer coding');
    framing = { kind: 'chunked' };
  } else if (fields.contentLength > 0) framing = { kind: 'length', length: fields.contentLength };
  else framing = { kind: 'none' };
  const close = hasToken(fields.connection, 'close');
  const keepAlive = minor === 1 ? !close : hasToken(fields.connection, 'keep-alive') && !close;
  let expectContinue = false;
  let upgrade = false;
  for (let i = 0; i < fields.raw.length; i += 2) {
    const c = fields.raw[i]!.charCodeAt(0) | 0x20;
    if (c !== 0x65 && c !== 0x75) continue; // e, u
    const name = fields.raw[i]!.toLowerCase();
    if (name === 'expect') {
      if (fields.raw[i + 1]!.toLowerCase() !== '100-continue') throw new UnsupportedExpectation('unsupported expectation');
      expectContinue = framing.kind !== 'none';
    } else if (name === 'upgrade') upgrade = hasToken(fields.connection, 'upgrade');
  }
  return { method, target, minor, fields, framing, keepAlive, expectContinue, upgrade };
}
