import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isSecretName, REDACTED, redactSecrets, redactString } from '../../../src/config/redact.ts';
import { parseConfig } from '../../../src/config/load.ts';

test('issue 13 #10: field names like password, token, secret or api key are secrets; key, passive or cookie names are not', () => {
  for (const name of ['token', 'password', 'redis_password', 'clientSecret', 'x-api-key', 'apiKey', 'ACCESS_KEY', 'x-auth-token', 'credentials', 'pass', 'authorization', 'private.key']) {
    assert.equal(isSecretName(name), true, name);
  }
  for (const name of ['key', 'hash_key', 'key_prefix', 'passive', 'bypass', 'cookie', 'cookies', 'url', 'servers', 'tokenizer', 'keys']) {
    assert.equal(isSecretName(name), false, name);
  }
});

test('issue 13 #10: URL userinfo and secret query parameters are redacted, the rest of the string kept as written', () => {
  const cases: Array<[string, string]> = [
    ['redis://user:pw@127.0.0.1:6379/0', `redis://user:${REDACTED}@127.0.0.1:6379/0`],
    ['redis://:pw@127.0.0.1:6379', `redis://:${REDACTED}@127.0.0.1:6379`],
    ['rediss://default:p@ss:w0rd@redis.example:6380', `rediss://default:${REDACTED}@redis.example:6380`],
    ['https://ghp_token@example.com/x', `https://${REDACTED}@example.com/x`],
    ['mc:pw@10.0.0.1:11211', `mc:${REDACTED}@10.0.0.1:11211`],
    ['http://h:1/?a=1&password=x&access_token=y#f', `http://h:1/?a=1&password=${REDACTED}&access_token=${REDACTED}#f`],
    ['http://127.0.0.1:8001', 'http://127.0.0.1:8001'],
    ['http://h/a@b', 'http://h/a@b'],
    ['bob@example.com', 'bob@example.com'],
    ['127.0.0.1:11211', '127.0.0.1:11211'],
    ['an at sign @ in text', 'an at sign @ in text'],
  ];
  for (const [input, expected] of cases) assert.equal(redactString(input), expected, input);
});

test('issue 13 #10: redactSecrets walks any shape: secret fields, credential headers, lists of secrets, and leaves the rest', () => {
  const input = {
    admin: { token: 't', listen: '127.0.0.1:9090' },
    nested: [{ db: { password: 'p', port: 5432, token_ttl: 30 } }],
    tokens: ['a', 'b'],
    secrets: { a: 'x', b: { c: 'y' } },
    routes: [{ match: { headers: { Authorization: 'Bearer x', cookie: 's=1', 'x-tenant': 'acme' } } }],
    sticky: { cookie: 'fulcrum_backend' },
    url: 'redis://u:p@h',
    absent: undefined,
    nothing: null,
    flag: true,
  };
  assert.deepEqual(redactSecrets(input), {
    admin: { token: REDACTED, listen: '127.0.0.1:9090' },
    nested: [{ db: { password: REDACTED, port: 5432, token_ttl: 30 } }],
    tokens: [REDACTED, REDACTED],
    secrets: { a: REDACTED, b: { c: REDACTED } },
    routes: [{ match: { headers: { Authorization: REDACTED, cookie: REDACTED, 'x-tenant': 'acme' } } }],
    sticky: { cookie: 'fulcrum_backend' },
    url: `redis://u:${REDACTED}@h`,
    absent: undefined,
    nothing: null,
    flag: true,
  });
  assert.equal(input.admin.token, 't', 'the input is not changed');
});

test('issue 13 #10: a full config with a credential in every place keeps none after redaction, and keeps its shape', () => {
  const parsed = parseConfig(
    {
      admin: { token: 'admin-sEcReT-token-0123' },
      cache: { redis: { url: 'redis://u:sEcReT1@r:6379' }, memcached: { servers: ['m:sEcReT2@m:11211'] } },
      pools: { web: { backends: [{ url: 'http://u:sEcReT3@b:8001' }] } },
      routes: [{ match: { headers: { authorization: 'sEcReT4', 'x-api-key': 'sEcReT5' } }, pool: 'web' }],
    },
    {},
  );
  assert.ok(parsed.ok);
  const text = JSON.stringify(redactSecrets(parsed.config));
  assert.ok(!text.includes('sEcReT'), text);
  assert.deepEqual(Object.keys(redactSecrets(parsed.config) as object), Object.keys(parsed.config));
});
