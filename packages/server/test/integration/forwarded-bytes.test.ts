/**
 * Issue 13, end to end: what a real Fulcrum forwards, byte for byte. Raw client streams (the known smuggling
 * shapes and a seeded sample of the generated corpus) go through Fulcrum to a raw backend that records every
 * byte and reads them with llhttp in strict mode, as a node:http backend would. Fulcrum must forward one clean
 * request for each request it accepted, never more: the requests llhttp reads in the client's stream (or a
 * prefix of them, where Fulcrum refuses), with the bodies the client sent; and each answer must go back to the
 * client that asked. Then the other way: a hostile backend's responses must reach the client as llhttp reads
 * them (or as a 502), and the bytes it sends past a response's end must never answer another request.
 *
 * Seeded like the unit-level differential test: FULCRUM_FUZZ_SEED replays a corpus.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  judgeRequests,
  judgeResponse,
  report,
  Tolerated,
  wholeResponse,
  type Disagreement,
  type Extracted,
  type Finding,
} from '../support/framing-agreement.ts';
import { fuzzSeed, Prng, requestAttacks, requestCorpus, type RequestCase } from '../support/framing-corpus.ts';
import { show } from '../support/framing-draft.ts';
import { fulcrumReadsRequests } from '../support/framing-fulcrum.ts';
import { inParallel, rawClient, startHostileBackend, startRecordingBackend, type ClientResult, type HostileBackend, type RawBackend } from '../support/framing-wire.ts';
import { startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';
import { LLHTTP_METHODS, referenceParse, type ParsedMessage } from '../support/llhttp.ts';
import { responseAttacks, responseCorpus, type ResponseCase } from '../support/response-corpus.ts';

const SEED = fuzzSeed();
const GENERATED_REQUEST_CASES = 300;
const GENERATED_RESPONSE_CASES = 150;
/** Clients at once: enough to keep Fulcrum's pooled backend connections shared between them. */
const PARALLEL = 16;
/** A client waits this long for answers Fulcrum never sends (a body it keeps waiting for: no client body timeout). */
const CLIENT_TIMEOUT_MS = 1500;

/** Fulcrum's answers that are its own, not the backend's: refusals and errors (the backends never send these). */
const FULCRUM_ERRORS = new Set([400, 408, 413, 417, 431, 501, 502, 503, 504]);

const header = (m: ParsedMessage, name: string): string | undefined => {
  for (let i = 0; i < m.headers.length; i += 2) if (m.headers[i]!.toLowerCase() === name) return m.headers[i + 1];
  return undefined;
};

/** Requests end to end: the stream is one the unit test can judge, and not a tunnel (upgrade.test.ts has those). */
function endToEndRequestCases(): RequestCase[] {
  const generated = requestCorpus(new Prng(SEED ^ 0x2e2e2e2e), 100_000, GENERATED_REQUEST_CASES * 2).filter((c) => {
    if (c.upgrade) return false;
    // A method llhttp does not know stops the recording backend too; that is not framing (the unit test covers it).
    if ((referenceParse('request', c.pieces).error ?? '').startsWith('HPE_INVALID_METHOD')) return false;
    return fulcrumReadsRequests(c.pieces).messages.every((m) => LLHTTP_METHODS.has(m.method));
  });
  return [...requestAttacks(1), ...generated.slice(0, GENERATED_REQUEST_CASES)];
}

/** The recording backend's requests for one case, found by the case number in their targets, in order. */
function forwardedFor(backend: RawBackend, id: number): ParsedMessage[] {
  return backend.requests.filter((m) => m.target.startsWith(`/c${id}/`));
}

/** Streams llhttp refused at the recording backend, by the case they belong to (-1: none found). */
function backendRefusals(backend: RawBackend): Map<number, string> {
  const out = new Map<number, string>();
  for (const conn of backend.connections) {
    const error = conn.parser.error;
    if (error === undefined) continue;
    const bytes = Buffer.concat(conn.bytes);
    const at = conn.parser.errorOffset;
    out.set(caseAt(bytes.toString('latin1'), at, conn.parser.errorTarget), `${error}, in ${show(bytes.subarray(Math.max(0, at - 200), at + 60), 300)}`);
  }
  return out;
}

/**
 * The case an error belongs to: its request's target when llhttp had read it; else the target in the same head
 * before the error, or the first one after it (an error in a request line comes before its target).
 */
function caseAt(text: string, offset: number, target: string | undefined): number {
  const id = (s: string | undefined) => (s === undefined ? undefined : /^\/c(\d+)\//.exec(s)?.[1]);
  const known = id(target);
  if (known !== undefined) return Number(known);
  const before = [...text.slice(0, offset).matchAll(/ \/c(\d+)\//g)].at(-1);
  if (before !== undefined && !text.slice(before.index, offset).includes('\r\n\r\n')) return Number(before[1]);
  const after = / \/c(\d+)\//.exec(text.slice(offset));
  return Number((after ?? before)?.[1] ?? -1);
}

/**
 * Fulcrum's refusal of a request it could not parse carries a short text body, even when the request line said
 * HEAD; the connection closes after it, so no later answer can be misread. Not counted (not framing).
 */
function refusedHeadWithBody(c: RequestCase, client: ClientResult): boolean {
  const last = client.responses.at(-1);
  const asked = fulcrumReadsRequests(c.pieces).messages[client.responses.length - 1]?.method ?? c.methods[client.responses.length - 1];
  return client.error?.startsWith('HPE_CLOSED_CONNECTION') === true && last !== undefined && FULCRUM_ERRORS.has(last.status) && asked === 'HEAD';
}

function judgeRequestCase(c: RequestCase, client: ClientResult, backend: RawBackend, refusals: Map<number, string>, tolerated: Tolerated): Finding | undefined {
  const forwarded: Extracted[] = forwardedFor(backend, c.id).map((m) => ({ method: m.method, target: m.target, body: m.body, complete: true }));
  const fulcrum = fulcrumReadsRequests(c.pieces);
  const verdict = judgeRequests(c, fulcrum.heads, forwarded);
  tolerated.add(verdict.normalised);
  const problems: Disagreement[] = [];
  // First: what the backend refused is the root of what follows on that connection.
  const refusal = refusals.get(c.id);
  if (refusal !== undefined) problems.push({ kind: 'forwarded bytes the backend (llhttp, strict) refuses', detail: refusal });
  for (const d of verdict.disagreements) problems.push({ kind: `forwarded: ${d.kind}`, detail: d.detail });
  if (client.error !== undefined && !refusedHeadWithBody(c, client)) problems.push({ kind: 'answered the client with bytes llhttp refuses', detail: client.error });
  // Each forwarded request is answered, in order, to this client: not to another, and not twice.
  const answered = client.responses.filter((r) => !FULCRUM_ERRORS.has(r.status)).map((r) => header(r, 'x-target') ?? `(status ${r.status})`);
  const sent = forwarded.map((m) => m.target);
  const inOrder = client.end === 'timed out' ? sent.slice(0, answered.length) : sent;
  if (JSON.stringify(answered) !== JSON.stringify(inOrder)) {
    problems.push({ kind: 'answers do not match the requests forwarded', detail: `forwarded ${JSON.stringify(sent)}, the client got answers for ${JSON.stringify(answered)} (${client.end})` });
  }
  if (problems.length === 0) return undefined;
  const statuses = client.responses.map((r) => r.status).join(', ') || 'none';
  const context = `Fulcrum forwarded ${forwarded.length} request(s), answered ${statuses} (${client.end}); llhttp reads ${verdict.ref.messages.length} request(s) in the client's stream, ${verdict.ref.error ?? 'no error'}`;
  return { id: c.id, labels: c.labels, bytes: c.bytes, disagreements: problems, context };
}

describe(`issue 13: Fulcrum forwards one clean request per request it accepts, never more (seed 0x${SEED.toString(16)})`, () => {
  let backend: RawBackend;
  let fulcrum: InProcessFulcrum;

  before(async () => {
    backend = await startRecordingBackend();
    fulcrum = await startFulcrum({
      // A head Fulcrum keeps waiting for (bare LF line ends) is answered 408 soon, not after 10 s.
      limits: { header_timeout: '300ms', keepalive_timeout: '2s' },
      log: { level: 'silent', access: false },
      // No retry: a request reaching the backend twice must show as twice.
      pools: { web: { backends: [{ url: backend.url }], retries: { attempts: 0 } } },
    });
  });

  after(async () => {
    await fulcrum?.stop();
    await backend?.close();
  });

  test('issue 13: smuggling shapes and generated client streams reach the backend as llhttp reads them, or not at all', async (t) => {
    const cases = endToEndRequestCases();
    t.diagnostic(`${cases.length} client streams (${requestAttacks(1).length} attack shapes), ${PARALLEL} clients at once`);
    const results = await inParallel(cases, PARALLEL, (c) => {
      // Wait for as many answers as llhttp or Fulcrum's parser reads requests, whichever is more; else for the end.
      const llhttp = referenceParse('request', c.pieces).messages;
      const own = fulcrumReadsRequests(c.pieces).messages;
      const expected = Math.max(llhttp.filter((m) => m.complete).length, own.filter((m) => m.complete).length);
      const noBody = (i: number) => (own[i] ?? llhttp[i])?.method === 'HEAD';
      return rawClient(fulcrum.proxyPort, c.pieces, { noBody, enough: expected, timeoutMs: CLIENT_TIMEOUT_MS });
    });
    const refusals = backendRefusals(backend);
    const tolerated = new Tolerated();
    const findings = cases.map((c, i) => judgeRequestCase(c, results[i]!, backend, refusals, tolerated)).filter((f) => f !== undefined);
    for (const line of tolerated.lines()) t.diagnostic(line);
    const unattributed = refusals.get(-1);
    assert.equal(unattributed, undefined, `the backend refused a stream no case can be found in: ${unattributed}`);
    assert.equal(findings.length, 0, report('forwarded requests', SEED, findings));
  });
});

function judgeResponseCase(c: ResponseCase, got: ClientResult, next: ClientResult, hits: number, tolerated: Tolerated): Finding | undefined {
  const problems: Disagreement[] = [];
  const first = got.responses[0];
  const refused = first !== undefined && FULCRUM_ERRORS.has(first.status);
  if (first !== undefined && first.complete && !refused) {
    const verdict = judgeResponse(c, { method: '', target: '', status: first.status, body: first.body, complete: true });
    tolerated.add(verdict.normalised);
    for (const d of verdict.disagreements) problems.push({ kind: `delivered: ${d.kind}`, detail: d.detail });
  }
  const ref = referenceParse('response', c.pieces, { eof: c.close, noBody: () => c.isHead });
  const accepted = wholeResponse(c);
  if (accepted !== undefined && first?.complete !== true) {
    problems.push({ kind: 'cut a response llhttp reads whole', detail: `llhttp: ${accepted.status} with body ${show(accepted.body, 80)}; the client got ${first === undefined ? 'no response' : `${first.status}, incomplete`} (${got.end})` });
  }
  if (got.error !== undefined) problems.push({ kind: 'answered the client with bytes llhttp refuses', detail: got.error });
  const follow = next.responses[0];
  const expected = `next:/h/${c.id}/next`;
  if (follow?.body.toString('latin1') !== expected) {
    problems.push({ kind: 'the next request on the connection got something else', detail: `expected ${show(Buffer.from(expected))}, got ${follow === undefined ? `nothing (${next.end})` : `${follow.status} ${show(follow.body, 80)}`}` });
  }
  if (hits !== 1) problems.push({ kind: 'the request reached the backend other than once', detail: `${hits} time(s)` });
  if (problems.length === 0) return undefined;
  const context = `the client got ${got.responses.map((r) => `${r.status}${r.complete ? '' : ' (cut)'}`).join(', ') || 'nothing'} (${got.end}); llhttp reads ${ref.messages.map((m) => m.status).join(', ') || 'nothing'}, ${ref.error ?? 'no error'}`;
  return { id: c.id, labels: [...c.labels], bytes: c.bytes, disagreements: problems, context };
}

describe(`issue 13: a hostile backend cannot desynchronise Fulcrum's backend connections (seed 0x${SEED.toString(16)})`, () => {
  let backend: HostileBackend;
  let fulcrum: InProcessFulcrum;
  const cases = [...responseAttacks(1), ...responseCorpus(new Prng(SEED ^ 0x77777777), 1000, GENERATED_RESPONSE_CASES)];
  const byTarget = new Map(cases.map((c) => [`/h/${c.id}`, c]));

  before(async () => {
    backend = await startHostileBackend((target) => byTarget.get(target));
    fulcrum = await startFulcrum({
      log: { level: 'silent', access: false },
      // One backend connection at a time, so the request after a hostile response is offered the same connection.
      pools: {
        web: {
          backends: [{ url: backend.url }],
          retries: { attempts: 0 },
          circuit_breaker: { max_connections: 1 },
          timeouts: { response: '500ms', idle: '500ms' },
        },
      },
    });
  });

  after(async () => {
    await fulcrum?.stop();
    await backend?.close();
  });

  test("issue 13: hostile responses reach the client as llhttp reads them or as a 502, and never answer the next request", async (t) => {
    t.diagnostic(`${cases.length} responses (${responseAttacks(1).length} attack shapes), each followed by a request on the connection it leaves`);
    const tolerated = new Tolerated();
    const findings: Finding[] = [];
    for (const c of cases) {
      const method = c.isHead ? 'HEAD' : 'GET';
      const ask = (target: string, head: boolean) =>
        rawClient(fulcrum.proxyPort, [Buffer.from(`${head ? 'HEAD' : 'GET'} ${target} HTTP/1.1\r\nHost: x.example\r\n\r\n`, 'latin1')], {
          noBody: () => head,
          enough: 1,
          timeoutMs: CLIENT_TIMEOUT_MS,
        });
      const got = await ask(`/h/${c.id}`, method === 'HEAD');
      const next = await ask(`/h/${c.id}/next`, false);
      const finding = judgeResponseCase(c, got, next, backend.hits.get(`/h/${c.id}`) ?? 0, tolerated);
      if (finding !== undefined) findings.push(finding);
    }
    for (const line of tolerated.lines()) t.diagnostic(line);
    assert.equal(findings.length, 0, report('hostile responses', SEED, findings));
  });
});
