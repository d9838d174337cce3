import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { generatedDocs, REPO_ROOT } from '../../../../../scripts/gen-docs.ts';
import { configReferenceMarkdown, configReferenceRows } from '../../../src/config/reference.ts';

describe('generated docs', () => {
  for (const [path, expected] of Object.entries(generatedDocs())) {
    test(`${path} matches the config schema`, () => {
      let committed: string;
      try {
        committed = readFileSync(join(REPO_ROOT, path), 'utf8');
      } catch {
        assert.fail(`${path} is missing: run \`npm run docs\` and commit it`);
      }
      // Compared as a whole (not via assert's diff) so that the message says what to do first.
      if (committed !== expected) {
        const line = firstDifferentLine(committed, expected);
        assert.fail(`${path} is out of date with the config schema (first difference at line ${line}): run \`npm run docs\` and commit it`);
      }
    });
  }
});

describe('configReferenceMarkdown', () => {
  const rows = configReferenceRows();
  const byPath = new Map(rows.map((r) => [r.path, r]));

  test('has one row per field path, nested ones included', () => {
    assert.equal(byPath.size, rows.length, 'a path appears twice');
    for (const path of [
      'listen',
      'workers',
      'pools.<name>.health.active.interval',
      'pools.<name>.backends[].url',
      'routes[].match.path_prefix',
      'limits.max_body_size',
    ]) {
      assert.ok(byPath.has(path), `no row for ${path}`);
    }
  });

  test('shows durations, sizes and percentages as such, with the defaults users write', () => {
    assert.deepEqual(byPath.get('pools.<name>.health.active.interval'), {
      path: 'pools.<name>.health.active.interval',
      type: 'duration',
      default: '`2s`',
      description: 'Time between probes of one backend (jittered by up to 10%).',
    });
    assert.equal(byPath.get('limits.max_body_size')?.type, 'size');
    assert.equal(byPath.get('limits.max_body_size')?.default, '`10mb`');
    assert.equal(byPath.get('pools.<name>.retries.budget')?.type, 'percent');
    assert.equal(byPath.get('workers')?.type, '`auto` or integer, 1 to 256');
    assert.equal(byPath.get('pools')?.default, '**required**');
    assert.equal(byPath.get('pools.<name>.backends[].url')?.default, '**required**');
    assert.equal(byPath.get('admin.token')?.default, 'unset');
  });

  test('gives every field a description', () => {
    assert.deepEqual(rows.filter((r) => r.description === '').map((r) => r.path), []);
  });

  test('is a well-formed table: four cells on every row', () => {
    const table = configReferenceMarkdown().split('\n').filter((l) => l.startsWith('|'));
    assert.equal(table.length, rows.length + 2);
    for (const line of table) {
      // A cell ends at a pipe that is not escaped.
      assert.equal(line.split(/(?<!\\)\|/).length - 2, 4, line);
    }
  });

  test('is deterministic', () => {
    assert.equal(configReferenceMarkdown(), configReferenceMarkdown());
  });
});

function firstDifferentLine(a: string, b: string): number {
  const x = a.split('\n');
  const y = b.split('\n');
  let i = 0;
  while (i < x.length && i < y.length && x[i] === y[i]) i++;
  return i + 1;
}
