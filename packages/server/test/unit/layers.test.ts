/** The import directions of eslint.config.js, run through ESLint itself on snippets placed in the tree. */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ESLint } from 'eslint';

const ROOT = path.resolve(import.meta.dirname, '../../../..');
const eslint = new ESLint({ cwd: ROOT });

/** The messages of the import-direction rules for `code` as if it were the file at `file` (from the repo root). */
async function importProblems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(ROOT, file) });
  assert.ok(result);
  const fatal = result.messages.filter((m) => m.fatal === true);
  assert.deepEqual(fatal, []);
  return result.messages.filter((m) => m.ruleId === 'fulcrum/layers' || m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('server layers (fulcrum/layers)', () => {
  test('a unit may import the layers below it', async () => {
    const code = "import { x } from '../config/schema.ts';\nimport { y } from '../upstream/backend.ts';\nexport { x, y };\n";
    assert.deepEqual(await importProblems('packages/server/src/proxy/new.ts', code), []);
  });

  test('nothing below the proxy imports it', async () => {
    const problems = await importProblems('packages/server/src/upstream/new.ts', "export { Pipeline } from '../proxy/pipeline.ts';\n");
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /'upstream' may not import 'proxy'/);
  });

  test('the edge is found however deep the importing file is', async () => {
    const problems = await importProblems('packages/server/src/cache/stores/new.ts', "import '../../admin/server.ts';\n");
    assert.match(problems.join('\n'), /'cache' may not import 'admin'/);
  });

  test('balancing and health never import each other', async () => {
    assert.equal((await importProblems('packages/server/src/balancing/new.ts', "import '../health/monitor.ts';\n")).length, 1);
    assert.equal((await importProblems('packages/server/src/health/new.ts', "import '../balancing/registry.ts';\n")).length, 1);
  });

  test('the proxy does not import the workers that wire it, nor the admin API', async () => {
    const code = "import '../workers/single.ts';\nimport '../admin/views.ts';\n";
    assert.equal((await importProblems('packages/server/src/proxy/new.ts', code)).length, 2);
  });

  test('the admin API reaches the workers only through the control plane, and only its types', async () => {
    const typeOnly = "import type { ControlPlane } from '../workers/control-plane.ts';\nexport type C = ControlPlane;\n";
    assert.deepEqual(await importProblems('packages/server/src/admin/new.ts', typeOnly), []);
    const value = "import { ControlPlane } from '../workers/control-plane.ts';\nexport const c = ControlPlane;\n";
    assert.match((await importProblems('packages/server/src/admin/new.ts', value)).join('\n'), /only types/);
    const internal = "import type { ProxyProcess } from '../workers/proxy-process.ts';\nexport type P = ProxyProcess;\n";
    assert.match((await importProblems('packages/server/src/admin/new.ts', internal)).join('\n'), /'admin' may not import 'workers'/);
  });

  test('a folder missing from the layer table is reported', async () => {
    const problems = await importProblems('packages/server/src/plugins/new.ts', "import '../errors.ts';\n");
    assert.match(problems.join('\n'), /'plugins' has no place in the layer table/);
  });

  test('tests may import anything', async () => {
    assert.deepEqual(await importProblems('packages/server/test/unit/new.test.ts', "import '../../src/cli/main.ts';\n"), []);
  });
});

describe('dashboard entry to the server (no-restricted-imports)', () => {
  test('a dashboard module may not import the server sources directly', async () => {
    const code = "import { LATENCY_BUCKETS_MS } from '../../../server/src/observability/stats.ts';\nexport { LATENCY_BUCKETS_MS };\n";
    assert.equal((await importProblems('packages/dashboard/src/features/new.ts', code)).length, 1);
  });
});
