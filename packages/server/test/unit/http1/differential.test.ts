/**
 * Issue 13, the differential framing test at unit level: thousands of generated request streams (and hostile
 * responses) are read by Fulcrum's own parser (HeadReader, parseRequestHead and BodyDecoder, driven as
 * downstream/connection.ts drives them; ResponseParser as upstream/http1/connection.ts drives it) and by llhttp in
 * node:http's strict mode. Fulcrum may refuse where llhttp accepts; whatever it accepts, llhttp must read the
 * same way, ending where llhttp ends it (support/framing-agreement.ts).
 *
 * Seeded: the seed is printed; FULCRUM_FUZZ_SEED=<n> replays or explores another corpus.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { judgeRequests, judgeResponse, report, Tolerated, type Finding } from '../../support/framing-agreement.ts';
import { fuzzSeed, Prng, requestAttacks, requestCorpus, type RequestCase } from '../../support/framing-corpus.ts';
import { fulcrumReadsRequests, fulcrumReadsResponse } from '../../support/framing-fulcrum.ts';
import { responseAttacks, responseCorpus, type ResponseCase } from '../../support/response-corpus.ts';

const SEED = fuzzSeed();
const REQUEST_CASES = 3000;
const RESPONSE_CASES = 2000;

function checkRequests(cases: readonly RequestCase[], tolerated: Tolerated): Finding[] {
  const findings: Finding[] = [];
  for (const c of cases) {
    const fulcrum = fulcrumReadsRequests(c.pieces);
    const verdict = judgeRequests(c, fulcrum.heads, fulcrum.messages);
    tolerated.add(verdict.normalised);
    const disagreements = [...verdict.disagreements];
    // Fulcrum's reading must not depend on how the bytes were cut (HeadReader and BodyDecoder across reads).
    const whole = fulcrumReadsRequests([c.bytes]);
    if (JSON.stringify(whole.messages) !== JSON.stringify(fulcrum.messages) || whole.outcome !== fulcrum.outcome) {
      disagreements.push({ kind: 'reads the stream otherwise when it comes in pieces', detail: `whole: ${whole.outcome}, in ${c.pieces.length} pieces: ${fulcrum.outcome}` });
    }
    if (disagreements.length === 0) continue;
    const ref = verdict.ref;
    const context = `Fulcrum: ${fulcrum.messages.length} request(s), ${fulcrum.outcome}; llhttp: ${ref.messages.length} request(s), ${ref.error ?? 'no error'}`;
    findings.push({ id: c.id, labels: c.labels, bytes: c.bytes, disagreements, context });
  }
  return findings;
}

function checkResponses(cases: readonly ResponseCase[], tolerated: Tolerated): Finding[] {
  const findings: Finding[] = [];
  for (const c of cases) {
    const fulcrum = fulcrumReadsResponse(c);
    const verdict = judgeResponse(c, fulcrum);
    tolerated.add(verdict.normalised);
    if (verdict.disagreements.length === 0) continue;
    const ref = verdict.ref;
    const context = `Fulcrum: ${fulcrum.status ?? 'no head'}, ${fulcrum.outcome}; llhttp: ${ref.messages.map((m) => m.status).join(', ') || 'no head'}, ${ref.error ?? 'no error'}`;
    findings.push({ id: c.id, labels: c.labels, bytes: c.bytes, disagreements: verdict.disagreements, context });
  }
  return findings;
}

function printTolerated(t: TestContext, tolerated: Tolerated): void {
  for (const line of tolerated.lines()) t.diagnostic(line);
}

describe(`issue 13: Fulcrum's HTTP/1.1 parsers agree with llhttp on where each message ends (seed 0x${SEED.toString(16)})`, () => {
  test('issue 13: the known request smuggling shapes are refused or read as llhttp reads them', (t) => {
    const cases = requestAttacks(1);
    t.diagnostic(`${cases.length} attack shapes`);
    const tolerated = new Tolerated();
    const findings = checkRequests(cases, tolerated);
    printTolerated(t, tolerated);
    assert.equal(findings.length, 0, report('request attack shapes', SEED, findings, 50));
  });

  test(`issue 13: ${REQUEST_CASES} generated request streams are refused or read as llhttp reads them`, (t) => {
    const cases = requestCorpus(new Prng(SEED), 1000, REQUEST_CASES);
    t.diagnostic(`seed 0x${SEED.toString(16)}: ${cases.length} streams, ${cases.reduce((n, c) => n + c.methods.length, 0)} requests`);
    const tolerated = new Tolerated();
    const findings = checkRequests(cases, tolerated);
    printTolerated(t, tolerated);
    assert.equal(findings.length, 0, report('generated request streams', SEED, findings));
  });

  test('issue 13: the known hostile-backend response shapes are refused or read as llhttp reads them', (t) => {
    const cases = responseAttacks(1);
    t.diagnostic(`${cases.length} attack shapes`);
    const tolerated = new Tolerated();
    const findings = checkResponses(cases, tolerated);
    printTolerated(t, tolerated);
    assert.equal(findings.length, 0, report('response attack shapes', SEED, findings, 50));
  });

  test(`issue 13: ${RESPONSE_CASES} generated backend responses are refused or read as llhttp reads them`, (t) => {
    const cases = responseCorpus(new Prng(SEED ^ 0x5a5a5a5a), 1000, RESPONSE_CASES);
    t.diagnostic(`seed 0x${SEED.toString(16)}: ${cases.length} responses`);
    const tolerated = new Tolerated();
    const findings = checkResponses(cases, tolerated);
    printTolerated(t, tolerated);
    assert.equal(findings.length, 0, report('generated responses', SEED, findings));
  });

  test("the judge finds no fault in llhttp's own reading of each stream (the harness is sound)", () => {
    for (const c of requestCorpus(new Prng(SEED), 1000, 500)) {
      const own = judgeRequests(c, [], []).ref.messages.map((m) => ({ ...m, body: Buffer.from(m.body) }));
      assert.deepEqual(judgeRequests(c, [], own).disagreements, [], `case ${c.id}`);
    }
    for (const c of responseCorpus(new Prng(SEED ^ 0x5a5a5a5a), 1000, 500)) {
      const first = judgeResponse(c, { method: '', target: '', body: Buffer.alloc(0), complete: false }).ref.messages.find((m) => m.status >= 200);
      if (first !== undefined) assert.deepEqual(judgeResponse(c, { ...first, body: Buffer.from(first.body) }).disagreements, [], `case ${c.id}`);
    }
  });

  test('the corpus is reproducible: one seed, one corpus', () => {
    const a = requestCorpus(new Prng(SEED), 0, 50).map((c) => c.pieces.map((p) => p.toString('latin1')));
    const b = requestCorpus(new Prng(SEED), 0, 50).map((c) => c.pieces.map((p) => p.toString('latin1')));
    assert.deepEqual(a, b);
  });
});
