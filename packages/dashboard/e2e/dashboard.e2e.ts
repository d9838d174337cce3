/**
 * The dashboard end to end: a real Fulcrum in-process with two backends and a bounded load, the built dashboard
 * (packages/dashboard/dist: run `npm run build:dashboard` first) served by its admin listener, in Debian's
 * Chromium driven by playwright-core. Saves overview.png and pools.png (see SCREENSHOTS).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startBackends, type TestBackend } from '../../server/test/support/backend.ts';
import { eventually, startFulcrum, type InProcessFulcrum } from '../../server/test/support/fulcrum.ts';
import { assertBuilt, launchChromium, SCREENSHOTS, startLoad, TOKEN, type Browser, type Load } from './support.ts';

interface BackendView {
  id: string;
  state: string;
  requests: number;
}

let bs: TestBackend[];
let fulcrum: InProcessFulcrum;
let browser: Browser;
let page: Page;
let load: Load;

async function backends(): Promise<BackendView[]> {
  const pools = (await (await fetch(`${fulcrum.adminUrl}/api/pools`)).json()) as Array<{ backends: BackendView[] }>;
  return pools[0]!.backends;
}

before(async () => {
  assertBuilt();
  bs = await startBackends(2);
  fulcrum = await startFulcrum({
    admin: { listen: '127.0.0.1:0', token: TOKEN },
    pools: { web: { algorithm: 'round-robin', backends: bs.map((b) => ({ url: b.url })) } },
  });
  load = startLoad(fulcrum.url);
  browser = await launchChromium();
  page = browser.context.pages()[0] ?? (await browser.context.newPage());
  await mkdir(SCREENSHOTS, { recursive: true });
});

after(async () => {
  await load?.stop();
  await browser?.close();
  await fulcrum?.stop();
  for (const b of bs ?? []) await b.close();
});

test('the overview shows the live stream connected and the request counter moving', async () => {
  await page.goto(`${fulcrum.adminUrl}/`);
  await page.getByTestId('live-status').filter({ hasText: 'live' }).waitFor({ timeout: 10_000 });
  const total = page.getByTestId('requests-total');
  await total.waitFor({ timeout: 10_000 });
  const first = Number((await total.locator('.stat-value').textContent()) ?? 0);
  await eventually(async () => Number((await total.locator('.stat-value').textContent()) ?? 0) > first, 10_000, 'the request counter to move');
  // The charts are drawn once two snapshots gave a rate.
  await page.locator('.chart canvas').first().waitFor({ timeout: 10_000 });
  await eventually(async () => ((await page.getByTestId('rps').locator('.stat-value').textContent()) ?? '—') !== '—', 10_000, 'a request rate');
  // A few seconds of points, for a screenshot that shows lines rather than dots.
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="requests-total"] .stat-value')?.textContent) > 0, null, { timeout: 10_000 });
  await new Promise((r) => setTimeout(r, 4000));
  await page.screenshot({ path: join(SCREENSHOTS, 'overview.png'), fullPage: true });
});

test('draining a backend from the pools page stops its traffic while requests keep succeeding', async () => {
  const drained = bs[1]!.url;
  await page.getByLabel('Admin token').fill(TOKEN);
  await page.getByRole('link', { name: 'Pools & backends' }).click();
  const button = page.getByRole('button', { name: `Drain ${drained}` });
  await button.waitFor({ timeout: 10_000 });
  let asked = '';
  page.once('dialog', (d) => {
    asked = d.message();
    void d.accept();
  });
  const failedBefore = load.failed;
  await button.click();
  await page.getByText(`${drained} is now draining.`).waitFor({ timeout: 10_000 });
  assert.match(asked, /Drain/);
  await page.getByRole('button', { name: `Undrain ${drained}` }).waitFor({ timeout: 10_000 });

  const view = async (id: string) => (await backends()).find((b) => b.id === id)!;
  assert.equal((await view(drained)).state, 'draining');
  // Let in-flight requests finish, then: the drained backend's counter stands still while the other's goes on.
  const okAtDrain = load.ok;
  await eventually(() => load.ok >= okAtDrain + 5, 10_000, 'requests after the drain');
  const drainedCount = (await view(drained)).requests;
  const otherCount = (await view(bs[0]!.url)).requests;
  const okBefore = load.ok;
  await eventually(() => load.ok >= okBefore + 50, 15_000, '50 more requests');
  assert.equal((await view(drained)).requests, drainedCount, 'the drained backend got no new requests');
  assert.ok((await view(bs[0]!.url)).requests >= otherCount + 50, 'the other backend took the traffic');
  assert.equal(load.failed, failedBefore, 'no request failed');

  // The page's share column follows: the drained backend's share of the last seconds falls to zero.
  await page.locator(`tr[data-backend="${drained}"] td:nth-child(4)`).filter({ hasText: '0.0 %' }).waitFor({ timeout: 15_000 });
  await page.screenshot({ path: join(SCREENSHOTS, 'pools.png'), fullPage: true });
});

test('a backend that registers itself appears on the pools page, marked registered, and leaves when it deregisters', async () => {
  const [joiner] = await startBackends(1, 'joiner');
  try {
    const registrations = `${fulcrum.adminUrl}/api/pools/web/registrations`;
    const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    const added = await fetch(registrations, { method: 'POST', headers: auth, body: JSON.stringify({ url: joiner!.url, ttl: '30s' }) });
    assert.equal(added.status, 200);
    const row = page.locator(`tr[data-backend="${joiner!.url}"]`);
    await row.filter({ hasText: 'registered' }).waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('tr[data-backend] .registered').count(), 1, 'only the registered backend is marked');
    const removed = await fetch(`${registrations}/${encodeURIComponent(joiner!.url)}`, { method: 'DELETE', headers: auth });
    assert.equal(removed.status, 200);
    await row.waitFor({ state: 'detached', timeout: 10_000 });
  } finally {
    await joiner!.close();
  }
});
