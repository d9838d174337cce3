import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseDuration, parsePercent, parseSize } from '../../../src/config/units.ts';

type Row = readonly [input: string | number, expected: number | undefined];

function table(parse: (v: string | number) => number | undefined, rows: readonly Row[]): void {
  for (const [input, expected] of rows) {
    test(`${typeof input === 'string' ? JSON.stringify(input) : String(input)} gives ${expected === undefined ? 'undefined (invalid)' : expected}`, () => {
      assert.equal(parse(input), expected);
    });
  }
}

describe('parseDuration reads milliseconds', () => {
  table(parseDuration, [
    ['250ms', 250],
    ['2s', 2000],
    ['1.5m', 90_000],
    ['1h', 3_600_000],
    ['0s', 0],
    [' 30s ', 30_000],
    ['10 s', 10_000],
    [1500, 1500],
    [0, 0],
    ['2', undefined], // a bare string has no unit: ambiguous, so refused
    ['2 secs', undefined],
    ['2S', undefined],
    ['-1s', undefined],
    ['1d', undefined],
    ['', undefined],
    [-5, undefined],
    [Number.NaN, undefined],
    [Number.POSITIVE_INFINITY, undefined],
  ]);
});

describe('parseSize reads bytes in binary multiples', () => {
  table(parseSize, [
    ['512b', 512],
    ['512', 512],
    ['16kb', 16 * 1024],
    ['16KB', 16 * 1024],
    ['10mb', 10 * 1024 ** 2],
    ['1gb', 1024 ** 3],
    ['1kib', 1024],
    ['2MiB', 2 * 1024 ** 2],
    ['1.5kb', 1536],
    ['0.1b', 0], // whole bytes, rounded down
    [4096, 4096],
    [0, 0],
    ['10 tb', undefined],
    ['ten mb', undefined],
    ['-1kb', undefined],
    [1.5, undefined],
    [-1, undefined],
  ]);
});

describe('parsePercent reads a fraction in [0, 1]', () => {
  table(parsePercent, [
    ['20%', 0.2],
    ['0%', 0],
    ['100%', 1],
    ['12.5%', 0.125],
    [' 50 % ', 0.5],
    [0.25, 0.25],
    [1, 1],
    [0, 0],
    ['101%', undefined],
    ['20', undefined],
    ['-5%', undefined],
    [1.5, undefined],
    [-0.1, undefined],
    [Number.NaN, undefined],
  ]);
});
