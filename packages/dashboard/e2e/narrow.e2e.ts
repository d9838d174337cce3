/** The dashboard in a narrow window (a phone, a side panel): every view fits its width, nothing scrolls sideways. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startBackends, type TestBackend } from '../../server/test/support/backend.ts';
import { startFulcrum, type InProcessFulcrum } from '../../server/test/support/fulcrum.ts';
import { assertBuilt, launchChromium, startLoad, TOKEN, type Browser, type Load } from './support.ts';

let browser: Browser;
let backends: TestBackend[];
let fulcrum: InProcessFulcrum;
let load: Load;

before(async () => {
  assertBuilt();
  backends = await startBackends(3, 'narrow');
  fulcrum = await startFulcrum({
    admin: { listen: '127.0.0.1:0', token: TOKEN },
    pools: { web: { backends: backends.map((b) => ({ url: b.url })) } },
  });
  load = startLoad(fulcrum.url, { max: 5000, ms: 20_000 });
  browser = await launchChromium();
});

after(async () => {
  await load?.stop();
  await browser?.close();
  await fulcrum?.stop();
  for (const b of backends ?? []) await b.close();
});

test('in a 400 px wide window every view fits the width: no sideways scrolling', async () => {
  const page = await browser.context.newPage();
  await page.setViewportSize({ width: 400, height: 800 });
  for (const view of ['', '#/pools', '#/traffic', '#/cache', '#/limits', '#/events']) {
    await page.goto(`${fulcrum.adminUrl}/${view}`);
    // Views render from the API and the live stream: wait until the first statistics arrived.
    await page.getByText('live', { exact: true }).first().waitFor({ timeout: 10_000 });
    await page.waitForFunction(() => document.querySelectorAll('table, canvas, ol, ul, .empty').length > 0);
    const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
    assert.ok(scroll <= width + 1, `${view || 'overview'}: page is ${scroll} px wide in a ${width} px window`);
  }
  await page.close();
});
