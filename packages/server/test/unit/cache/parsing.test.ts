/** The parsers under the cache policy: Cache-Control, HTTP-date, targeted fields, entity-tags. Named by clause. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { deltaSeconds, directivesOf, fieldNames, parseDirectives } from '../../../src/cache/directives.ts';
import { parseHttpDate } from '../../../src/cache/http-date.ts';
import { parseDictionary, targetedDirectives } from '../../../src/cache/targeted.ts';
import { entityTags, strongMatch, weakMatch } from '../../../src/cache/conditional.ts';
import { ageValue } from '../../../src/cache/freshness.ts';

const plain = (d: Record<string, string> | undefined) => (d === undefined ? undefined : { ...d });

describe('Cache-Control (RFC 9111 §5.2)', () => {
  const cases: Array<[string, string, Record<string, string>]> = [
    ['RFC 9111 §5.2: directive names are compared without regard to case', 'MaX-AgE=60, No-Store', { 'max-age': '60', 'no-store': '' }],
    ['RFC 9111 §5.2: an argument may be a quoted string, read unquoted', 'max-age="3600", private="a, b"', { 'max-age': '3600', private: 'a, b' }],
    ['RFC 9111 §5.2: a quoted string may hold commas and = without ending the directive', 'ext="max-age=100", max-age=1', { ext: 'max-age=100', 'max-age': '1' }],
    ['RFC 9111 §5.2: escapes in a quoted string are undone', 'ext="a\\"b"', { ext: 'a"b' }],
    ['RFC 9111 §4.2.1: of two occurrences of a directive the first is used', 'max-age=1800, max-age=1', { 'max-age': '1800' }],
    ['RFC 9111 §5.2: whitespace before = leaves no directive', 'max-age =100, public', { public: '' }],
    ['RFC 9111 §5.2: whitespace after = leaves no directive', 'max-age= 100, public', { public: '' }],
    ['RFC 9110 §5.6.1: empty list members are ignored', ', ,no-cache,, public ,', { 'no-cache': '', public: '' }],
    ['RFC 9111 §5.2.3: unknown extensions are kept and harmless', 'foobar, max-age=3600', { foobar: '', 'max-age': '3600' }],
    ['an unterminated quoted string ends the list', 'public, ext="abc, max-age=5', { public: '' }],
  ];
  for (const [name, value, expected] of cases) test(name, () => assert.deepEqual(plain(parseDirectives(value)), expected));

  test('RFC 9111 §4.2.1: the first occurrence wins across field lines too', () => {
    assert.deepEqual(plain(directivesOf(['Cache-Control', 'max-age=1800', 'cache-control', 'max-age=1, public'], 'cache-control')), { 'max-age': '1800', public: '' });
  });

  const deltas: Array<[string | undefined, number | undefined]> = [
    ['0', 0], ['60', 60], ['003600', 3600], ['2147483648', 2147483648], ['99999999999', 2147483648], ['2147483649', 2147483648],
    ['-100', undefined], ['3600.0', undefined], ['3600a', undefined], ['a3600', undefined], ["'3600'", undefined], ['', undefined], [undefined, undefined],
  ];
  for (const [value, expected] of deltas) {
    test(`RFC 9111 §1.2.2: delta-seconds ${JSON.stringify(value)} reads as ${expected}`, () => assert.equal(deltaSeconds(value), expected));
  }

  test('RFC 9111 §5.2.2.4: the field names of a qualified no-cache are read in lower case, once each', () => {
    assert.deepEqual(fieldNames('Set-Cookie, x-a ,X-A'), ['set-cookie', 'x-a']);
    assert.deepEqual(fieldNames(''), []);
  });
});

describe('HTTP-date (RFC 9110 §5.6.7)', () => {
  const t = Date.UTC(1994, 10, 6, 8, 49, 37);
  const cases: Array<[string, string, number | undefined]> = [
    ['IMF-fixdate', 'Sun, 06 Nov 1994 08:49:37 GMT', t],
    ['rfc850-date', 'Sunday, 06-Nov-94 08:49:37 GMT', t],
    ['asctime-date', 'Sun Nov  6 08:49:37 1994', t],
    ['day, month and zone names in any case', 'SUN, 06 NOV 1994 08:49:37 gmt', t],
    ['UTC is not GMT', 'Sun, 06 Nov 1994 08:49:37 UTC', undefined],
    ['a two-digit year in IMF-fixdate', 'Sun, 06 Nov 94 08:49:37 GMT', undefined],
    ['a missing comma', 'Sun 06 Nov 1994 08:49:37 GMT', undefined],
    ['doubled spaces', 'Sun, 06  Nov  1994 08:49:37 GMT', undefined],
    ['dashes in IMF-fixdate', 'Sun, 06-Nov-1994 08:49:37 GMT', undefined],
    ['periods in the time', 'Sun, 06 Nov 1994 08.49.37 GMT', undefined],
    ['a one-digit hour', 'Sun, 06 Nov 1994 8:49:37 GMT', undefined],
    ['"0"', '0', undefined],
    ['a day that does not exist', 'Mon, 31 Feb 2000 00:00:00 GMT', undefined],
  ];
  for (const [what, value, expected] of cases) {
    test(`RFC 9110 §5.6.7: ${what} ${expected === undefined ? 'is not an HTTP-date' : 'is read'}`, () => assert.equal(parseHttpDate(value), expected));
  }

  test('RFC 9110 §5.6.7: a two-digit rfc850 year more than 50 years ahead is in the past century', () => {
    const now = Date.UTC(2026, 0, 1);
    assert.equal(new Date(parseHttpDate('Thursday, 18-Aug-50 02:01:18 GMT', now)!).getUTCFullYear(), 2050);
    assert.equal(new Date(parseHttpDate('Thursday, 18-Aug-99 02:01:18 GMT', now)!).getUTCFullYear(), 1999);
  });
});

describe('Age (RFC 9111 §5.1)', () => {
  const cases: Array<[string, string | undefined, number]> = [
    ['absent is 0', undefined, 0],
    ['a list uses its first member', '7200, 0', 7200],
    ['a list with 0 first is 0', '0,7200', 0],
    ['a non-numeric value is ignored', 'abc', 0],
    ['a negative value is ignored', '-7200', 0],
    ['a fraction is ignored', '7200.0', 0],
  ];
  for (const [name, value, expected] of cases) test(`RFC 9111 §5.1: Age ${name}`, () => assert.equal(ageValue(value), expected));
});

describe('targeted fields (RFC 9213, RFC 8941 dictionaries)', () => {
  const cases: Array<[string, string, Record<string, string> | undefined]> = [
    ['RFC 9213 §2.2: a Dictionary maps to directives (Boolean true bare, Integer in decimal)', 'max-age=60, no-store', { 'max-age': '60', 'no-store': '' }],
    ['RFC 9213 §2.2: a String no-cache carries field names', 'no-cache="set-cookie"', { 'no-cache': 'set-cookie' }],
    ['RFC 9213 §2.2: parameters are allowed and ignored', 'max-age=60;foo=bar, public', { 'max-age': '60', public: '' }],
    ['RFC 9213 §2.2: a field that does not parse is ignored (unknown item)', 'max-age=10000, &&&&&', undefined],
    ['RFC 9213 §2.2: a directive of the wrong type voids the field', 'max-age="10000"', undefined],
    ['RFC 8941 §4.2: keys are lower case: MaX-aGe is not a key', 'MaX-aGe=3600', undefined],
    ['RFC 8941 §4.2: whitespace around = does not parse', 'max-age =100', undefined],
    ['RFC 8941 §4.2: a trailing comma does not parse', 'max-age=1,', undefined],
    ['RFC 8941: ?0 is an absent directive', 'no-store=?0, max-age=5', { 'max-age': '5' }],
  ];
  for (const [name, value, expected] of cases) test(name, () => assert.deepEqual(plain(parseDictionary(value)), expected));

  test('RFC 9213 §2.1: the first valid, non-empty listed field decides; an invalid one falls back (undefined)', () => {
    assert.deepEqual(plain(targetedDirectives(['CDN-Cache-Control', 'max-age=60'])), { 'max-age': '60' });
    assert.equal(targetedDirectives(['CDN-Cache-Control', 'max-age="60"', 'Cache-Control', 'max-age=5']), undefined);
    assert.equal(targetedDirectives(['CDN-Cache-Control', '']), undefined);
    assert.equal(targetedDirectives(['Cache-Control', 'max-age=5']), undefined);
  });
});

describe('entity-tags (RFC 9110 §8.8.3)', () => {
  test('RFC 9110 §8.8.3: a list of entity-tags is read whole, commas inside tags included', () => {
    assert.deepEqual(entityTags('"a", W/"b,c" ,"d"'), ['"a"', 'W/"b,c"', '"d"']);
    assert.equal(entityTags(' * '), '*');
  });
  test('RFC 9110 §8.8.3.2: weak comparison ignores weakness; strong comparison needs both strong', () => {
    assert.equal(weakMatch('W/"a"', '"a"'), true);
    assert.equal(weakMatch('"a"', '"b"'), false);
    assert.equal(strongMatch('"a"', '"a"'), true);
    assert.equal(strongMatch('W/"a"', '"a"'), false);
  });
});
