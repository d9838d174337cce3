import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { formatProblems, parseConfig, type ConfigResult } from '../../../src/config/load.ts';
import { listenersOf } from '../../../src/config/listeners.ts';

const pools = { p: { backends: [{ url: 'http://127.0.0.1:8001' }] } };
const acme = { terms_of_service_agreed: true, domains: ['example.com'], storage: '/var/lib/fulcrum/acme' };
const cert = { cert: '/etc/fulcrum/a.pem', key: '/etc/fulcrum/a.key' };

function problems(result: ConfigResult): string[] {
  assert.equal(result.ok, false, 'expected the config to be refused');
  return result.ok ? [] : result.problems.map((p) => formatProblems([p])).sort();
}

describe('listeners in the config', () => {
  test('without listen or listeners there is one plain listener on 127.0.0.1:8080', () => {
    const result = parseConfig({ pools });
    assert.ok(result.ok);
    assert.deepEqual(listenersOf(result.config), [{ listen: '127.0.0.1:8080', redirect_https: false }]);
  });

  test('a TLS listener gets modern defaults: TLS 1.2 at least, the Mozilla intermediate ciphers, tickets on', () => {
    const result = parseConfig({ listeners: [{ listen: '0.0.0.0:443', tls: { certificates: [cert] } }], pools });
    assert.ok(result.ok);
    const tls = listenersOf(result.config)[0]!.tls!;
    assert.equal(tls.min_version, 'TLSv1.2');
    assert.match(tls.ciphers, /^ECDHE-ECDSA-AES128-GCM-SHA256:/);
    assert.doesNotMatch(tls.ciphers, /CBC|SHA1|RC4|3DES|:AES/);
    assert.equal(tls.session_tickets, true);
  });

  test('each cross-field mistake is named by its path', () => {
    assert.deepEqual(problems(parseConfig({ listen: '127.0.0.1:80', listeners: [{ listen: '127.0.0.1:81' }], pools })), [
      'listen: give either listen or listeners, not both',
    ]);
    assert.deepEqual(
      problems(parseConfig({ listeners: [{ listen: '127.0.0.1:443', tls: { certificates: [cert] }, redirect_https: true }, { listen: '127.0.0.1:444', tls: {} }], pools })),
      ['listeners[0].redirect_https: only a plain listener redirects to HTTPS', 'listeners[1].tls: a TLS listener needs certificates, or acme: true'],
    );
    assert.deepEqual(problems(parseConfig({ listeners: [{ listen: '127.0.0.1:443', tls: { acme: true } }], pools })), [
      'listeners[0].tls.acme: there is no acme section to take certificates from',
    ]);
    assert.deepEqual(problems(parseConfig({ listen: '127.0.0.1:80', acme, pools })), [
      'acme: acme needs a TLS listener with tls.acme: true (see listeners)',
    ]);
    assert.deepEqual(
      problems(parseConfig({ listeners: [{ listen: '127.0.0.1:443', tls: { acme: true } }], acme: { ...acme, challenges: ['http-01'] }, pools })),
      ['acme.challenges: no listener can answer these: http-01 needs a plain listener, tls-alpn-01 a TLS listener with acme: true'],
    );
  });

  test('ACME needs the terms agreed and plain host names (no wildcard: that would need DNS-01)', () => {
    const listeners = [{ listen: '127.0.0.1:443', tls: { acme: true } }];
    assert.deepEqual(
      problems(parseConfig({ listeners, acme: { ...acme, terms_of_service_agreed: false, domains: ['*.example.com'] }, pools })),
      ['acme.domains[0]: not a host name (wildcards need DNS-01, which Fulcrum does not do)', 'acme.terms_of_service_agreed: Invalid input: expected true'],
    );
  });
});
