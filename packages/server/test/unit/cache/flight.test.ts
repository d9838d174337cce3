import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Flights, sharedFor, type Landed } from '../../../src/cache/flight.ts';
import { varyKey } from '../../../src/cache/key.ts';
import type { StoredResponse } from '../../../src/cache/store.ts';

const PRIMARY = 'GET\nexample.com\n/page';

function landedFor(vary: string | undefined, leaderHeaders: readonly string[]): Landed {
  const entry: StoredResponse = {
    url: 'example.com/page',
    status: 200,
    headers: vary === undefined ? ['content-type', 'text/plain'] : ['vary', vary],
    body: Buffer.from('x'),
    storedAt: 0,
    tags: [],
    policy: {},
  };
  return { entry, key: vary === undefined ? PRIMARY : varyKey(PRIMARY, [vary], leaderHeaders)! };
}

describe('what a coalesced waiter may take', () => {
  test('issue 13 #4: a waiter takes the response only when the fields its Vary names match the leader\'s', () => {
    const alice = ['Cookie', 'user=alice'];
    const cases: Array<[string | undefined, readonly string[], boolean]> = [
      [undefined, ['cookie', 'user=bob'], true], // no Vary: one representation for all
      ['Cookie', ['cookie', 'user=alice'], true],
      ['Cookie', ['COOKIE', '  user=alice '], true], // names in any case, values up to whitespace
      ['Cookie', ['cookie', 'user=bob'], false],
      ['Cookie', [], false], // absent differs from present
      ['Accept-Language, Cookie', ['cookie', 'user=alice', 'accept-language', 'fr'], false],
    ];
    for (const [vary, headers, shares] of cases) {
      const landed = landedFor(vary, alice);
      assert.equal(sharedFor(landed, PRIMARY, headers) === landed.entry, shares, `${vary} ${headers.join(':')}`);
    }
  });

  test('issue 13 #4: Vary: * matches no waiter, and nothing landed sends every waiter to the backend', () => {
    const landed: Landed = { ...landedFor(undefined, []), entry: { ...landedFor(undefined, []).entry, headers: ['vary', '*'] } };
    assert.equal(sharedFor(landed, PRIMARY, []), undefined);
    assert.equal(sharedFor(undefined, PRIMARY, []), undefined);
  });

  test('waiters get what the leader landed; a flight ended is no longer found', async () => {
    const flights = new Flights();
    const flight = flights.begin('k');
    const waiting = flight.wait(10_000);
    const landed = landedFor(undefined, []);
    flights.end('k', flight, landed);
    assert.equal(await waiting, landed);
    assert.equal(flights.find('k'), undefined);
  });
});
