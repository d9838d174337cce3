/**
 * Mutations of a message head that apply to requests and responses alike: the fields that frame a message
 * (Transfer-Encoding, Content-Length) and how any field line is written. Each returns its label (for grouping
 * failures), or undefined when it does not apply to the draft.
 */
import { Draft, field, type Prng } from './framing-draft.ts';

export type Mutation = (d: Draft, rng: Prng) => string | undefined;

export const FRAMING_MUTATIONS: readonly Mutation[] = [
  (d, rng) => {
    // Both framings: the classic CL.TE / TE.CL desync.
    if (d.has('transfer-encoding')) return d.insert(rng, field('Content-Length', String(rng.pick([0, 1, 5, d.body.length])))), 'te+cl';
    if (d.has('content-length')) return d.insert(rng, field('Transfer-Encoding', 'chunked')), 'cl+te';
    return undefined;
  },
  (d, rng) => {
    const cl = d.get('content-length');
    if (cl === undefined) return undefined;
    const equal = rng.chance(0.5);
    d.insert(rng, field(cl.name, equal ? cl.value : String(Number(cl.value) + 1)));
    return equal ? 'cl-dup-equal' : 'cl-dup-unequal';
  },
  (d, rng) => {
    const cl = d.get('content-length');
    if (cl === undefined) return undefined;
    const v = cl.value;
    cl.value = rng.pick([`${v}, ${v}`, `+${v}`, ` ${v}`, `${v} `, `0${v}`, `${v}.0`, `-${v}`, `0x${v}`, `${v}\t`, '18446744073709551621', '1e1', '', `${v} ${v}`, `${Number(v) + 3}`, `${Math.max(0, Number(v) - 2)}`]);
    return `cl-value:${JSON.stringify(cl.value)}`;
  },
  (d, rng) => {
    const te = d.get('transfer-encoding');
    if (te === undefined) return undefined;
    te.value = rng.pick(TE_VALUES);
    return `te-value:${JSON.stringify(te.value)}`;
  },
  (d, rng) => {
    if (!d.has('transfer-encoding')) return undefined;
    const value = rng.pick(['chunked', 'identity', 'gzip']);
    d.insert(rng, field('Transfer-Encoding', value));
    return `te-dup:${value}`;
  },
  (d, rng) => {
    const value = rng.pick(NOMINATED);
    d.insert(rng, field('Connection', value));
    return `connection:${value}`;
  },
  obsFold,
  (d, rng) => {
    const f = rng.pick(d.fields);
    if (f === undefined) return undefined;
    f.sep = rng.pick([' :', '\t:', ' : ', ' :\t']);
    return `ws-before-colon:${f.name}`;
  },
  (d, rng) => {
    const f = rng.pick(d.fields);
    if (f === undefined) return undefined;
    f.sep = rng.pick([':', ':  ', ':\t', ': \t', ':\t ']);
    return `sep:${JSON.stringify(f.sep)}`;
  },
  (d, rng) => {
    const f = rng.pick(d.fields);
    if (f === undefined) return undefined;
    f.value += rng.pick([' ', '\t', '  ', ' \t']);
    return `trailing-ws:${f.name}`;
  },
  lineEnding,
  (d, rng) => {
    const f = d.get('transfer-encoding') ?? d.get('content-length');
    if (f === undefined) return undefined;
    f.name = rng.pick([f.name.toLowerCase(), f.name.toUpperCase(), f.name.replace('-', '_'), `${f.name}2`, `X-${f.name}`]);
    return `name:${f.name}`;
  },
  (d, rng) => {
    const f = rng.pick(d.fields);
    if (f === undefined) return undefined;
    // Controls, and what String.prototype.trim() also strips: VT, FF, NBSP (0xa0 read as latin1).
    const ctl = rng.pick(['\x00', '\x7f', '\x0b', '\x0c', '\x1b', '\xa0', '\x85']);
    const at = rng.pick([0, 1, f.value.length]);
    f.value = `${f.value.slice(0, at)}${ctl}${f.value.slice(at)}`;
    return `ctl-in-value:${JSON.stringify(ctl)}`;
  },
];

const TE_VALUES = [
  'Chunked',
  'CHUNKED',
  'chunked, identity',
  'identity, chunked',
  'gzip, chunked',
  'chunked, gzip',
  'xchunked',
  'chunked-false',
  ' chunked',
  '"chunked"',
  'chunked;q=1',
  'chunked,',
  ',chunked',
  'chunked, chunked',
  'identity',
  'chunk',
  'chunked\x0b',
  'chunked\xa0',
  'chunked , gzip',
  'gzip,chunked',
];

/** Connection values, among them fields that frame or route the request (issue 13 #1, #7). */
const NOMINATED = [
  'content-length',
  'Content-Length',
  'transfer-encoding',
  'host',
  'close',
  'keep-alive',
  'close, content-length',
  'keep-alive, transfer-encoding',
  'te',
  'x-pad',
];

/** obs-fold (RFC 9112 §5.2): a field value continued on a line that starts with whitespace. */
export function obsFold(d: Draft, rng: Prng): string | undefined {
  const f = d.get('transfer-encoding') ?? d.get('content-length') ?? rng.pick(d.fields);
  if (f === undefined) return undefined;
  const cut = rng.int(0, f.value.length);
  f.value = `${f.value.slice(0, cut)}\r\n${rng.pick([' ', '\t', '  '])}${f.value.slice(cut)}`;
  return `obs-fold:${f.name}`;
}

/** One line ending of the head made a bare LF or a bare CR, or all of them bare LF. */
export function lineEnding(d: Draft, rng: Prng): string {
  const eol = rng.pick(['\n', '\n', '\r']);
  const where = rng.int(-1, d.fields.length);
  if (rng.chance(0.2)) {
    d.lineEol = '\n';
    d.headEol = '\n';
    for (const f of d.fields) f.eol = '\n';
    return 'eol:all-lf';
  }
  if (where === -1) d.lineEol = eol;
  else if (where === d.fields.length) d.headEol = eol;
  else d.fields[where]!.eol = eol;
  return `eol:${eol === '\n' ? 'lf' : 'cr'}@${where === -1 ? 'start-line' : where === d.fields.length ? 'head-end' : 'field'}`;
}
