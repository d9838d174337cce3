/**
 * Backend addresses as written in the config: an IPv6 literal (its URL has brackets, a socket address must not) and
 * a host name that does not resolve (its own error code, not an internal error). Plain requests and upgrades alike.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from '../support/client.ts';
import { startFulcrum, type InProcessFulcrum } from '../support/fulcrum.ts';
import { hasIpv6Loopback, startWebSocketBackend, upgradeRequest, type WebSocketBackend } from '../support/websocket.ts';

describe('a backend on the IPv6 loopback', async () => {
  const ipv6 = await hasIpv6Loopback();
  let backend: WebSocketBackend;
  let fulcrum: InProcessFulcrum;

  before(async () => {
    if (!ipv6) return;
    backend = await startWebSocketBackend('v6', '::1');
    fulcrum = await startFulcrum({ pools: { v6: { backends: [{ url: backend.url }] } } });
  });

  after(async () => {
    await fulcrum?.stop();
    await backend?.close();
  });

  test('a plain request reaches it', { skip: !ipv6 && 'no IPv6 loopback here' }, async () => {
    const res = await request(`${fulcrum.url}/`);
    assert.equal(res.status, 200);
    assert.equal(res.text, 'v6');
  });

  test('issue 13 #17a: a WebSocket upgrade reaches it (the host is dialled without its brackets)', { skip: !ipv6 && 'no IPv6 loopback here' }, async () => {
    const res = await upgradeRequest(`${fulcrum.url}/`);
    assert.equal(res.status, 101, res.text);
    assert.equal(backend.upgrades.length, 1);
  });
});

describe('a backend whose host name does not resolve', () => {
  let fulcrum: InProcessFulcrum;

  before(async () => {
    // RFC 6761 §6.4: .invalid never resolves, and the lookup leaves no traffic beyond the local resolver.
    fulcrum = await startFulcrum({ pools: { nowhere: { backends: [{ url: 'http://no-such-host.invalid:80' }] } } });
  });

  after(() => fulcrum?.stop());

  test('issue 13 #17b: a request gets 502 FUL_ERR_DNS_FAILED, not 500', async () => {
    const res = await request(`${fulcrum.url}/`);
    assert.equal(res.status, 502);
    assert.match(res.text, /code: FUL_ERR_DNS_FAILED/);
  });

  test('issue 13 #17b: an upgrade gets 502 FUL_ERR_DNS_FAILED, not 500', async () => {
    const res = await upgradeRequest(`${fulcrum.url}/`);
    assert.equal(res.status, 502);
    assert.match(res.text, /code: FUL_ERR_DNS_FAILED/);
  });
});
