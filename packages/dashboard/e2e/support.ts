/**
 * Shared by the dashboard's end-to-end tests: Debian's Chromium through playwright-core with a fresh profile,
 * free loopback ports, and a bounded load generator. Not a test file itself (the runner picks *.e2e.ts).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type BrowserContext } from 'playwright-core';

export const TOKEN = 'e2e-admin-token-0123456789abcdef';
export const DIST = fileURLToPath(new URL('../dist/index.html', import.meta.url));
/**
 * Where the tests save their screenshots: docs/screenshots (the README's) with FULCRUM_SCREENSHOTS=1, as
 * `npm run screenshots` sets; otherwise a temporary folder, so that running the tests leaves the tree as it was.
 */
export const SCREENSHOTS =
  process.env.FULCRUM_SCREENSHOTS === '1'
    ? fileURLToPath(new URL('../../../docs/screenshots/', import.meta.url))
    : join(tmpdir(), 'fulcrum-screenshots');

export function assertBuilt(): void {
  if (!existsSync(DIST)) throw new Error(`no ${DIST}: run npm run build:dashboard first`);
}

export interface Browser {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Chromium with a fresh profile; the flags keep it from calling out (the machine's network is closed). */
export async function launchChromium(): Promise<Browser> {
  const profile = await mkdtemp(join(tmpdir(), 'fulcrum-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1280, height: 860 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

export interface Load {
  ok: number;
  failed: number;
  stop(): Promise<void>;
}

/**
 * `workers` loops of requests one after another, a few ms apart, until stopped, at most `max` requests each and
 * for at most `ms`: bounded, loopback-only traffic that leaves the browser CPU.
 */
export function startLoad(url: string, { workers = 1, max = 20_000, ms = 60_000, gapMs = 5 } = {}): Load {
  const until = Date.now() + ms;
  let stopped = false;
  const load: Load = { ok: 0, failed: 0, stop: async () => {
    stopped = true;
    await done;
  } };
  const loop = async (w: number) => {
    for (let i = 0; i < max && !stopped && Date.now() < until; i++) {
      try {
        const res = await fetch(`${url}/item/${w}-${i}`);
        await res.arrayBuffer();
        if (res.ok) load.ok++;
        else load.failed++;
      } catch {
        load.failed++;
      }
      await new Promise((r) => setTimeout(r, gapMs));
    }
  };
  const done = Promise.all(Array.from({ length: workers }, (_, w) => loop(w))).then(() => undefined);
  return load;
}
