/**
 * Building blocks of the framing corpora: a small seeded PRNG, a message draft (start line, field lines with
 * their separators and line endings, body) rendered byte for byte, chunked bodies with mutated chunk-size lines,
 * and the cutting of a stream into pieces.
 */

/** The seed of the corpora: FULCRUM_FUZZ_SEED (decimal or 0x hex) when set. */
export function fuzzSeed(): number {
  const env = process.env.FULCRUM_FUZZ_SEED;
  if (env === undefined || env === '') return 0x13f00d;
  const seed = Number(env);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`FULCRUM_FUZZ_SEED: not a 32-bit integer: ${env}`);
  return seed;
}

/** mulberry32: tiny, fast and good enough to spread mutations; the same seed gives the same corpus. */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** In [0, 1). */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  weighted<T>(choices: ReadonlyArray<readonly [T, number]>): T {
    let total = 0;
    for (const [, w] of choices) total += w;
    let r = this.next() * total;
    for (const [value, w] of choices) if ((r -= w) < 0) return value;
    return choices.at(-1)![0];
  }

  alnum(length: number): string {
    const chars = 'abcdefghijklmnopqrstuvwxyz0123456789';
    let s = '';
    for (let i = 0; i < length; i++) s += chars[Math.floor(this.next() * chars.length)];
    return s;
  }
}

/** One field line, rendered as name + sep + value + eol (each may be mutated). */
export interface FieldLine {
  name: string;
  sep: string;
  value: string;
  eol: string;
}

export const field = (name: string, value: string): FieldLine => ({ name, sep: ': ', value, eol: '\r\n' });

/** A message under construction: rendered exactly as its parts say, however malformed. */
export class Draft {
  startLine: string;
  lineEol = '\r\n';
  readonly fields: FieldLine[] = [];
  headEol = '\r\n';
  body: Buffer = Buffer.alloc(0);

  constructor(startLine: string) {
    this.startLine = startLine;
  }

  get(lowerName: string): FieldLine | undefined {
    return this.fields.find((f) => f.name.toLowerCase() === lowerName);
  }

  has(lowerName: string): boolean {
    return this.get(lowerName) !== undefined;
  }

  /** Inserts a field at a random place. */
  insert(rng: Prng, f: FieldLine): void {
    this.fields.splice(rng.int(0, this.fields.length), 0, f);
  }

  render(): Buffer {
    let head = `${this.startLine}${this.lineEol}`;
    for (const f of this.fields) head += `${f.name}${f.sep}${f.value}${f.eol}`;
    return Buffer.concat([Buffer.from(`${head}${this.headEol}`, 'latin1'), this.body]);
  }
}

/** Chunk-size lines as parsers have been fooled by them (RFC 9112 §7.1: chunk-size = 1*HEXDIG). */
const SIZE_MUTATIONS: ReadonlyArray<readonly [string, (hex: string, n: number) => string]> = [
  ['upper', (h) => h.toUpperCase()],
  ['leading-zeros', (h) => `000${h}`],
  ['0x', (h) => `0x${h}`],
  ['leading-space', (h) => ` ${h}`],
  ['trailing-space', (h) => `${h} `],
  ['trailing-tab', (h) => `${h}\t`],
  ['plus', (h) => `+${h}`],
  ['minus', (h) => `-${h}`],
  ['ext', (h) => `${h};a=b`],
  ['ext-name-only', (h) => `${h};a`],
  ['ext-quoted', (h) => `${h};a="b c"`],
  ['ext-quoted-crlf', (h) => `${h};a="x\r\ny"`],
  ['ext-space-before-semicolon', (h) => `${h} ;a=b`],
  ['ext-space-after-semicolon', (h) => `${h}; a=b`],
  ['ext-ctl', (h) => `${h};a=\x01`],
  ['overflow-2^64', (h) => `1${h.padStart(16, '0')}`],
  ['20-digits', () => 'f'.repeat(20)],
  ['one-more', (_h, n) => (n + 1).toString(16)],
  ['one-less', (_h, n) => Math.max(0, n - 1).toString(16)],
  ['underscore', (h) => `${h}_`],
  ['trailing-vt', (h) => `${h}\x0b`],
  ['leading-nbsp', (h) => `\xa0${h}`],
];

/** A chunked body carrying `data`, with its chunk-size lines, chunk ends, last chunk and trailers mutated now and then. */
export function chunkedBody(rng: Prng, data: Buffer, labels: string[]): Buffer {
  const out: string[] = [];
  const count = data.length === 0 ? 0 : rng.int(1, Math.min(3, data.length));
  let from = 0;
  for (let i = 0; i < count; i++) {
    const to = i === count - 1 ? data.length : rng.int(from + 1, data.length - (count - 1 - i));
    const n = to - from;
    let size = n.toString(16);
    if (rng.chance(0.2)) {
      const [name, mutate] = rng.pick(SIZE_MUTATIONS);
      size = mutate(size, n);
      labels.push(`chunk-size:${name}`);
    }
    const sizeEol = rng.chance(0.05) ? (labels.push('chunk-size-eol:lf'), '\n') : '\r\n';
    let dataEnd = '\r\n';
    if (rng.chance(0.05)) {
      dataEnd = rng.pick(['\n', '', '\r', 'XX\r\n']);
      labels.push(`chunk-data-end:${JSON.stringify(dataEnd)}`);
    }
    out.push(size, sizeEol, data.toString('latin1', from, to), dataEnd);
    from = to;
  }
  let last = '0';
  if (rng.chance(0.1)) {
    last = rng.pick(['00', '0;ext=1', '0 ', '000', '0\t']);
    labels.push(`last-chunk:${JSON.stringify(last)}`);
  }
  let trailers = '';
  if (rng.chance(0.12)) {
    trailers = rng.pick(['X-T: 1\r\n', 'Content-Length: 5\r\n', 'Transfer-Encoding: chunked\r\n', 'X-T: 1\r\n folded\r\n', 'X-T 1\r\n', 'X-T: 1\n']);
    labels.push(`trailer:${JSON.stringify(trailers)}`);
  }
  let end = '\r\n';
  if (rng.chance(0.05)) {
    end = rng.pick(['\n', '']);
    labels.push(`chunked-end:${JSON.stringify(end)}`);
  }
  out.push(last, '\r\n', trailers, end);
  return Buffer.from(out.join(''), 'latin1');
}

/** How many messages a stream carries: mostly one, often two, sometimes three. */
export function pipelineLength(rng: Prng): number {
  return rng.weighted([[1, 60], [2, 30], [3, 10]]);
}

/** Cuts a stream where a socket might: not at all, at a few places, or (rarely) byte by byte. */
export function pieces(rng: Prng, bytes: Buffer, labels: string[]): Buffer[] {
  if (bytes.length > 1 && rng.chance(0.03)) {
    labels.push('bytewise');
    return Array.from({ length: bytes.length }, (_, i) => bytes.subarray(i, i + 1));
  }
  const cuts = new Set<number>();
  for (let n = rng.int(0, 3); n > 0 && bytes.length > 1; n--) cuts.add(rng.int(1, bytes.length - 1));
  const sorted = [...cuts].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const cut of [...sorted, bytes.length]) {
    out.push(bytes.subarray(from, cut));
    from = cut;
  }
  return out;
}

/** A stream shown for a report: JSON-escaped, so CR, LF and controls are visible. */
export function show(bytes: Buffer, max = 600): string {
  const text = bytes.toString('latin1', 0, max);
  const escaped = JSON.stringify(text).replace(/[\x7f-\xff]/g, (c) => `\\x${c.charCodeAt(0).toString(16)}`);
  return bytes.length > max ? `${escaped}…` : escaped;
}
