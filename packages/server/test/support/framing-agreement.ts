/**
 * When Fulcrum and llhttp agree on a byte stream (issue 13's differential framing tests), and how a
 * disagreement is reported.
 *
 * Agreement is decided on the messages each parser extracts, in order: method, target and body bytes of a
 * request (status and body of a response). Fulcrum may refuse where llhttp accepts (a 4xx, a closed connection,
 * a head it keeps waiting on): strictness is safe. But every message Fulcrum accepts must be one llhttp accepts
 * too, read the same way, ending at the same byte; a message Fulcrum has only started must be a prefix of
 * llhttp's. Anything else is a framing disagreement: two servers in a chain reading one stream as different
 * requests is what request smuggling is made of.
 */
import { show } from './framing-draft.ts';
import { finalResponseHead, normaliseMessages, type HeadRange } from './framing-normalisations.ts';
import { referenceParse, type ParsedMessage, type ReferenceParser } from './llhttp.ts';

/** A message as a candidate (Fulcrum's parser, or what reached the backend) extracted it. */
export interface Extracted {
  readonly method: string;
  readonly target: string;
  readonly status?: number;
  body: Buffer;
  complete: boolean;
}

/** One disagreement: `kind` groups those with one root cause; `detail` says what each side read. */
export interface Disagreement {
  readonly kind: string;
  readonly detail: string;
}

const code = (ref: ReferenceParser): string => (ref.error === undefined ? 'no llhttp error' : ref.error.split(':')[0]!);

/** Disagreements of the requests `candidate` extracted against llhttp's reading (`ref`) of the same stream. */
export function requestDisagreements(ref: ReferenceParser, candidate: readonly Extracted[]): Disagreement[] {
  const out: Disagreement[] = [];
  for (let i = 0; i < candidate.length; i++) {
    const c = candidate[i]!;
    const r = ref.messages[i];
    const where = `request ${i + 1} (${c.method} ${c.target})`;
    if (r === undefined) {
      out.push({
        kind: `accepts a request head llhttp refuses [${code(ref)}]`,
        detail: `${where}: Fulcrum read its head, llhttp stopped after ${ref.messages.length} request(s): ${ref.error ?? 'waiting for more bytes'}`,
      });
      break;
    }
    if (r.method !== c.method || r.target !== c.target) {
      out.push({ kind: 'reads another request line', detail: `${where}: llhttp read ${r.method} ${r.target}` });
      break;
    }
    const body = bodyDisagreement(where, r, c, ref);
    if (body !== undefined) {
      out.push(body);
      break;
    }
  }
  return out;
}

/** Disagreements of the response `candidate` read against llhttp's first final response in the same stream. */
export function responseDisagreements(ref: ReferenceParser, candidate: Extracted & { readonly reusable?: boolean }): Disagreement[] {
  if (candidate.status === undefined) return [];
  const r = ref.messages.find((m) => m.status >= 200 || m.status === 101);
  const where = `response ${candidate.status}`;
  if (r === undefined) {
    return [{ kind: `accepts a response head llhttp refuses [${code(ref)}]`, detail: `${where}: llhttp: ${ref.error ?? 'waiting for more bytes'}` }];
  }
  if (r.status !== candidate.status) return [{ kind: 'reads another status', detail: `${where}: llhttp read ${r.status}` }];
  const body = bodyDisagreement(where, r, candidate, ref);
  if (body !== undefined) return [body];
  if (candidate.reusable === true && asksToClose(r)) {
    return [{ kind: 'reuses a connection the backend closes', detail: `${where}: HTTP/1.${r.minor}, Connection: ${connectionOf(r) || '(none)'}` }];
  }
  return [];
}

function connectionOf(m: ParsedMessage): string {
  const values: string[] = [];
  for (let i = 0; i < m.headers.length; i += 2) if (m.headers[i]!.toLowerCase() === 'connection') values.push(m.headers[i + 1]!.toLowerCase());
  return values.join(', ');
}

/**
 * Whether the response says the connection ends with it (RFC 9112 §9.3). Not llhttp's keep-alive flag, which
 * is also false for a response to HEAD that has no length, though it has no body either.
 */
function asksToClose(m: ParsedMessage): boolean {
  const tokens = connectionOf(m).split(',').map((t) => t.trim());
  return m.minor === 0 ? !tokens.includes('keep-alive') : tokens.includes('close');
}

const escapeHigh = (s: string): string => s.replace(/[\x7f-\xff]/g, (c) => `\\x${c.charCodeAt(0).toString(16)}`);

function bodyDisagreement(where: string, r: ParsedMessage, c: Extracted, ref: ReferenceParser): Disagreement | undefined {
  if (c.complete && !r.complete) {
    return {
      kind: `ends a message llhttp does not [${code(ref)}]`,
      detail: `${where}: Fulcrum ended it with body ${show(c.body, 120)}; llhttp had body ${show(r.body, 120)}, then ${ref.error ?? 'waited for more bytes'}`,
    };
  }
  if (c.complete ? !c.body.equals(r.body) : !r.body.subarray(0, c.body.length).equals(c.body)) {
    return {
      kind: c.complete ? 'reads another body' : 'streams body bytes llhttp does not',
      detail: `${where}: Fulcrum body ${show(c.body, 120)}, llhttp body ${show(r.body, 120)}`,
    };
  }
  return undefined;
}

/** A verdict: what still disagrees, the normalisations that made the rest agree, and llhttp's strict reading. */
export interface Verdict {
  readonly disagreements: Disagreement[];
  readonly normalised: readonly string[];
  readonly ref: ReferenceParser;
}

/** The stream as sent: whole, and in the pieces it was fed in. */
export interface Stream {
  readonly bytes: Buffer;
  readonly pieces: readonly Buffer[];
}

/**
 * Judges the requests `candidate` extracted from `stream` (Fulcrum's parser, or what reached the backend) against
 * llhttp's strict reading; where they differ, against llhttp's reading of the stream normalised in the messages
 * whose heads Fulcrum found at `heads` (framing-normalisations.ts).
 */
export function judgeRequests(stream: Stream, heads: readonly HeadRange[], candidate: readonly Extracted[]): Verdict {
  const ref = referenceParse('request', stream.pieces);
  const disagreements = requestDisagreements(ref, candidate);
  if (disagreements.length === 0) return { disagreements, normalised: [], ref };
  const n = normaliseMessages(stream.bytes, heads, 'request');
  const renamed = candidate.map((m, i) => (n.methodReplaced.has(i) ? { ...m, method: 'GET' } : m));
  if (n.applied.size > 0 && requestDisagreements(referenceParse('request', [n.bytes]), renamed).length === 0) {
    return { disagreements: [], normalised: [...n.applied], ref };
  }
  return { disagreements, normalised: [], ref };
}

/** The same for the response `candidate` read from a backend's `stream` (sent to a HEAD when `isHead`). */
export function judgeResponse(
  stream: Stream & { readonly isHead: boolean; readonly close: boolean },
  candidate: Extracted & { readonly reusable?: boolean },
): Verdict {
  const options = { eof: stream.close, noBody: () => stream.isHead };
  const ref = referenceParse('response', stream.pieces, options);
  const disagreements = responseDisagreements(ref, candidate);
  if (disagreements.length === 0 || candidate.status === undefined) return { disagreements, normalised: [], ref };
  const hasBody = !stream.isHead && candidate.status !== 204 && candidate.status !== 304;
  const n = normaliseMessages(stream.bytes, finalResponseHead(stream.bytes), 'response', hasBody);
  if (n.applied.size > 0 && responseDisagreements(referenceParse('response', [n.bytes], options), candidate).length === 0) {
    return { disagreements: [], normalised: [...n.applied], ref };
  }
  return { disagreements, normalised: [], ref };
}

/**
 * llhttp's whole first final response in a backend's stream, when it reads one both as sent and as normalised
 * (Fulcrum may take either reading): what a client must then be given, or a 502.
 */
export function wholeResponse(stream: Stream & { readonly isHead: boolean; readonly close: boolean }): ParsedMessage | undefined {
  const options = { eof: stream.close, noBody: () => stream.isHead };
  const first = (bytes: readonly Buffer[]) => referenceParse('response', bytes, options).messages.find((m) => m.status >= 200 || m.status === 101);
  const asSent = first(stream.pieces);
  if (asSent?.complete !== true) return undefined;
  const hasBody = !stream.isHead && asSent.status !== 204 && asSent.status !== 304;
  const n = normaliseMessages(stream.bytes, finalResponseHead(stream.bytes), 'response', hasBody);
  return n.applied.size === 0 || first([n.bytes])?.complete === true ? asSent : undefined;
}

/** Tolerated normalisations met, by name: printed by the tests, never silent. */
export class Tolerated extends Map<string, number> {
  add(names: Iterable<string>): void {
    for (const name of names) this.set(name, (this.get(name) ?? 0) + 1);
  }

  lines(): string[] {
    return [...this].map(([name, count]) => `accepted where llhttp refuses, normalised (${name}): ${count} case(s)`);
  }
}

/** A failing case, for the report: what was sent and what went wrong. */
export interface Finding {
  readonly id: number;
  readonly labels: readonly string[];
  readonly bytes: Buffer;
  readonly disagreements: readonly Disagreement[];
  /** What each side did, in a line (Fulcrum's outcome, llhttp's error). */
  readonly context: string;
}

/** Examples shown per group: FULCRUM_FUZZ_EXAMPLES=n shows more (all, with a large n). */
const EXAMPLES = Number(process.env.FULCRUM_FUZZ_EXAMPLES ?? 3);

/**
 * The findings grouped by kind, each group with its count and its shortest inputs: what a fixer needs first.
 * Empty when there are none.
 */
export function report(title: string, seed: number, findings: readonly Finding[], examples = EXAMPLES): string {
  if (findings.length === 0) return '';
  const groups = new Map<string, Finding[]>();
  for (const f of findings) {
    const kind = f.disagreements[0]!.kind;
    groups.set(kind, [...(groups.get(kind) ?? []), f]);
  }
  const lines = [`${title}: ${findings.length} disagreeing case(s), seed 0x${seed.toString(16)} (FULCRUM_FUZZ_SEED)`];
  for (const [kind, group] of [...groups].sort((a, b) => b[1].length - a[1].length)) {
    lines.push('', `== ${kind}: ${group.length} case(s)`);
    for (const f of [...group].sort((a, b) => a.bytes.length - b.bytes.length).slice(0, examples)) {
      lines.push(`  case ${f.id} [${escapeHigh(f.labels.join(' | '))}]`, `    input:   ${show(f.bytes)}`, `    ${f.context}`);
      for (const d of f.disagreements) lines.push(`    ${d.detail}`);
    }
  }
  return lines.join('\n');
}
