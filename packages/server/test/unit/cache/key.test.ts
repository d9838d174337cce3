import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type CacheKeyConfig, normaliseFieldValue, normaliseQuery, parseVary, primaryKey, urlOf, varyKey, varyNames } from '../../../src/cache/key.ts';

function keyCfg(over: Partial<CacheKeyConfig> = {}): { key: CacheKeyConfig } {
  return { key: { query: 'keep', ignore_params: [], headers: [], cookies: [], ...over } };
}

describe('primaryKey', () => {
  test('http and https are different resources: the scheme is part of the key', () => {
    assert.notEqual(primaryKey('GET', 'example.com', '/a', '', keyCfg(), [], true), primaryKey('GET', 'example.com', '/a', '', keyCfg(), [], false));
    assert.equal(primaryKey('GET', 'example.com', '/a', '', keyCfg(), [], false), primaryKey('GET', 'example.com', '/a', '', keyCfg()));
  });

  test('HEAD shares the key of GET', () => {
    assert.equal(primaryKey('HEAD', 'example.com', '/a', 'x=1', keyCfg()), primaryKey('GET', 'example.com', '/a', 'x=1', keyCfg()));
  });

  test('other methods get keys of their own', () => {
    assert.notEqual(primaryKey('POST', 'example.com', '/a', '', keyCfg()), primaryKey('GET', 'example.com', '/a', '', keyCfg()));
  });

  test('the host is compared without regard to case', () => {
    assert.equal(primaryKey('GET', 'Example.COM', '/a', '', keyCfg()), primaryKey('GET', 'example.com', '/a', '', keyCfg()));
  });

  test('the path is compared with regard to case', () => {
    assert.notEqual(primaryKey('GET', 'example.com', '/A', '', keyCfg()), primaryKey('GET', 'example.com', '/a', '', keyCfg()));
  });

  test('a leading ? and an empty query change nothing', () => {
    const bare = primaryKey('GET', 'example.com', '/a', '', keyCfg());
    assert.equal(primaryKey('GET', 'example.com', '/a', '?', keyCfg()), bare);
    assert.equal(primaryKey('GET', 'example.com', '/a', '?x=1', keyCfg()), primaryKey('GET', 'example.com', '/a', 'x=1', keyCfg()));
  });

  test('different hosts never share a key', () => {
    assert.notEqual(primaryKey('GET', 'a.example', '/x', '', keyCfg()), primaryKey('GET', 'b.example', '/x', '', keyCfg()));
  });

  test('a path spelling out a header part cannot collide with a real header part', () => {
    const cfg = keyCfg({ headers: ['accept-language'] });
    const real = primaryKey('GET', 'example.com', '/a', '', cfg, ['Accept-Language', 'en']);
    const forged = primaryKey('GET', 'example.com', '/a h:accept-language=en', '', cfg, []);
    assert.notEqual(forged, real);
  });

  test('configured request headers split the key, matched in any case and normalised', () => {
    const cfg = keyCfg({ headers: ['Accept-Language'] });
    const en = primaryKey('GET', 'example.com', '/a', '', cfg, ['accept-language', 'en']);
    assert.notEqual(primaryKey('GET', 'example.com', '/a', '', cfg, ['ACCEPT-LANGUAGE', 'fr']), en);
    assert.equal(primaryKey('GET', 'example.com', '/a', '', cfg, ['Accept-Language', '  en ']), en);
  });

  test('an absent header and an empty one give different keys', () => {
    const cfg = keyCfg({ headers: ['x-tenant'] });
    assert.notEqual(primaryKey('GET', 'h', '/', '', cfg, []), primaryKey('GET', 'h', '/', '', cfg, ['x-tenant', '']));
  });

  test('configured cookies split the key by value, other cookies do not', () => {
    const cfg = keyCfg({ cookies: ['currency'] });
    const eur = primaryKey('GET', 'h', '/', '', cfg, ['Cookie', 'session=abc; currency=EUR']);
    assert.equal(primaryKey('GET', 'h', '/', '', cfg, ['Cookie', 'currency=EUR; session=xyz']), eur);
    assert.notEqual(primaryKey('GET', 'h', '/', '', cfg, ['Cookie', 'currency=USD']), eur);
    assert.notEqual(primaryKey('GET', 'h', '/', '', cfg, []), eur);
  });

  test('cookies are read across several Cookie fields; the first of a name wins', () => {
    const cfg = keyCfg({ cookies: ['currency'] });
    const eur = primaryKey('GET', 'h', '/', '', cfg, ['Cookie', 'currency=EUR']);
    assert.equal(primaryKey('GET', 'h', '/', '', cfg, ['cookie', 'a=1', 'cookie', 'currency=EUR; currency=USD']), eur);
  });

  test('cookie names are case-sensitive', () => {
    const cfg = keyCfg({ cookies: ['currency'] });
    assert.equal(
      primaryKey('GET', 'h', '/', '', cfg, ['Cookie', 'Currency=EUR']),
      primaryKey('GET', 'h', '/', '', cfg, []),
    );
  });
});

describe('query normalisation', () => {
  const cases: Array<[string, CacheKeyConfig['query'], string[], string, string]> = [
    ['keep leaves the query byte for byte', 'keep', [], 'b=2&a=1&&c', 'b=2&a=1&&c'],
    ['keep drops only the ignored parameters', 'keep', ['utm_source'], 'b=2&utm_source=x&a=1', 'b=2&a=1'],
    ['sort orders parameters by name', 'sort', [], 'b=2&a=1&c=3', 'a=1&b=2&c=3'],
    ['sort keeps the order of a repeated parameter', 'sort', [], 'id=2&b=1&id=1', 'b=1&id=2&id=1'],
    ['sort drops empty pieces', 'sort', [], 'b=2&&a=1&', 'a=1&b=2'],
    ['sort drops the ignored parameters', 'sort', ['utm_source', 'fbclid'], 'fbclid=1&z=1&utm_source=x&a', 'a&z=1'],
    ['an ignored parameter is recognised percent-encoded', 'sort', ['utm_source'], 'utm%5Fsource=x&a=1', 'a=1'],
    ['a malformed escape is compared as sent', 'keep', ['a'], '%zz=1&a=2', '%zz=1'],
    ['ignore leaves the query out', 'ignore', [], 'a=1&b=2', ''],
    ['a query of only ignored parameters is no query', 'keep', ['utm_source'], 'utm_source=x', ''],
  ];
  for (const [name, query, ignore, input, expected] of cases) {
    test(name, () => {
      assert.equal(normaliseQuery(input, keyCfg({ query, ignore_params: ignore }).key), expected);
    });
  }

  test('queries equal after sorting share a key', () => {
    const cfg = keyCfg({ query: 'sort' });
    assert.equal(primaryKey('GET', 'h', '/', 'a=1&b=2', cfg), primaryKey('GET', 'h', '/', 'b=2&a=1', cfg));
  });

  test('with ignore, any query shares the key of none', () => {
    const cfg = keyCfg({ query: 'ignore' });
    assert.equal(primaryKey('GET', 'h', '/p', 'a=1', cfg), primaryKey('GET', 'h', '/p', '', cfg));
  });

  test('with keep, parameter order matters', () => {
    assert.notEqual(primaryKey('GET', 'h', '/', 'a=1&b=2', keyCfg()), primaryKey('GET', 'h', '/', 'b=2&a=1', keyCfg()));
  });
});

describe('varyKey', () => {
  const primary = primaryKey('GET', 'example.com', '/a', '', keyCfg());

  test('Vary keeps representations apart', () => {
    const gzip = varyKey(primary, ['accept-encoding'], ['Accept-Encoding', 'gzip']);
    const br = varyKey(primary, ['accept-encoding'], ['Accept-Encoding', 'br']);
    assert.notEqual(gzip, br);
    assert.notEqual(gzip, primary);
  });

  test('Vary: * is uncacheable', () => {
    assert.equal(varyKey(primary, ['*'], []), undefined);
    assert.equal(varyKey(primary, 'accept, *', []), undefined);
  });

  test('no Vary leaves the primary key', () => {
    assert.equal(varyKey(primary, [], ['Accept', 'x']), primary);
  });

  test('values differing only in whitespace share a key', () => {
    const a = varyKey(primary, ['accept-language'], ['Accept-Language', 'en,  fr']);
    assert.equal(varyKey(primary, ['accept-language'], ['accept-language', ' en , fr\t']), a);
  });

  test('field names are matched in any case and listed in any order', () => {
    const headers = ['Accept', 'text/html', 'Accept-Language', 'en'];
    assert.equal(varyKey(primary, 'Accept-Language, ACCEPT', headers), varyKey(primary, ['accept', 'accept-language'], headers));
  });

  test('several lines of one request field are combined', () => {
    assert.equal(
      varyKey(primary, ['accept'], ['Accept', 'a', 'Accept', 'b']),
      varyKey(primary, ['accept'], ['Accept', 'a, b']),
    );
  });

  test('a varied field absent differs from one present but empty', () => {
    assert.notEqual(varyKey(primary, ['x-a'], []), varyKey(primary, ['x-a'], ['x-a', '']));
  });
});

describe('Vary parsing and helpers', () => {
  test('parseVary gathers names from every Vary field', () => {
    assert.deepEqual(parseVary(['Vary', 'Accept-Encoding', 'Content-Type', 'x', 'vary', 'Accept, accept-encoding']), ['accept', 'accept-encoding']);
  });

  test('parseVary gives * when any member is *', () => {
    assert.equal(parseVary(['Vary', 'accept', 'Vary', '*']), '*');
  });

  test('varyNames ignores empty members', () => {
    assert.deepEqual(varyNames(' , accept ,'), ['accept']);
  });

  test('normaliseFieldValue leaves clean values as they are and tidies the rest', () => {
    assert.equal(normaliseFieldValue('gzip, br'), 'gzip,br');
    assert.equal(normaliseFieldValue('  text/html \t  q=1 '), 'text/html q=1');
    assert.equal(normaliseFieldValue('en'), 'en');
  });

  test('urlOf files entries under the lower-case host and the target', () => {
    assert.equal(urlOf('Example.com', '/A?b=1'), 'example.com/A?b=1');
  });
});
