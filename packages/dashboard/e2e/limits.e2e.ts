/**
 * The Limits view in Chromium against a real Fulcrum whose route is rate limited and being hit past its limit: the
 * route's policy and its recent 429s, as GET /api/limits gives them. Saves limits.png (see SCREENSHOTS).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { startBackends, type TestBackend } from '../../server/test/support/backend.ts';
import { startFulcrum, type InProcessFulcrum } from '../../server/test/support/fulcrum.ts';
import { assertBuilt, launchChromium, SCREENSHOTS, startLoad, TOKEN, type Browser, type Load } from './support.ts';

let browser: Browser;
let backends: TestBackend[];
let fulcrum: InProcessFulcrum;
let load: Load;

before(async () => {
  assertBuilt();
  backends = await startBackends(2, 'limits');
  fulcrum = await startFulcrum({
    admin: { listen: '127.0.0.1:0', token: TOKEN },
    limits: { max_connections_per_ip: 64 },
    pools: { web: { backends: backends.map((b) => ({ url: b.url })) } },
    routes: [{ match: { path_prefix: '/item/' }, pool: 'web', rate_limit: { name: 'items', rate: '20/s', burst: 10 } }, { match: {}, pool: 'web' }],
  });
  // Two loops a few ms apart: about 300 requests a second against 20 allowed.
  load = startLoad(fulcrum.url, { workers: 2, max: 5000, ms: 30_000 });
  browser = await launchChromium();
});

after(async () => {
  await load?.stop();
  await browser?.close();
  await fulcrum?.stop();
  for (const b of backends ?? []) await b.close();
});

test("the Limits view shows the route's rate limit and its 429s of the last minute", async () => {
  const page = await browser.context.newPage();
  await page.goto(`${fulcrum.adminUrl}/#/limits`);
  const row = page.getByRole('region', { name: 'Rate limits' }).getByRole('row').filter({ hasText: 'items' });
  await row.waitFor({ timeout: 10_000 });
  assert.match((await row.textContent()) ?? '', /items\s*web\s*20 \/ s\s*10\s*ip/);
  // Polled every 2 s: the 429 count of the last minute climbs above zero.
  await page.waitForFunction(
    () => {
      const cells = [...document.querySelectorAll('[aria-label="Rate limits"] tbody tr')].find((r) => r.textContent?.includes('items'))?.querySelectorAll('td');
      return cells !== undefined && Number(cells[6]?.textContent) > 0;
    },
    null,
    { timeout: 15_000 },
  );
  assert.ok(load.failed > 0, 'the load saw 429s');
  await page.getByRole('region', { name: 'Connection limits' }).getByText('max per address').waitFor();
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, 'limits.png'), fullPage: true });
  await page.close();
});
