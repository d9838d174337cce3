/** Markdown tables and the number formats used in them. */

export type Align = 'left' | 'right';

export interface Column<Row> {
  readonly title: string;
  readonly align?: Align;
  readonly cell: (row: Row) => string;
}

/** A GitHub-flavoured Markdown table, padded so that it also reads well as plain text on a terminal. */
export function markdownTable<Row>(columns: readonly Column<Row>[], rows: readonly Row[]): string {
  const cells = rows.map((row) => columns.map((c) => c.cell(row).replaceAll('|', '\\|')));
  const widths = columns.map((c, i) => Math.max(3, c.title.length, ...cells.map((r) => r[i]!.length)));
  const pad = (text: string, i: number) =>
    columns[i]!.align === 'right' ? text.padStart(widths[i]!) : text.padEnd(widths[i]!);
  const line = (values: readonly string[]) => `| ${values.map(pad).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (columns[i]!.align === 'right' ? `${'-'.repeat(w + 1)}:` : `${'-'.repeat(w + 2)}`)).join('|')}|`;
  return [line(columns.map((c) => c.title)), rule, ...cells.map(line)].join('\n');
}

const DASH = '–';

export function fmtInt(n: number | undefined): string {
  return n === undefined ? DASH : Math.round(n).toLocaleString('en-US');
}

export function fmtMs(ms: number | undefined): string {
  if (ms === undefined) return DASH;
  return ms < 10 ? `${ms.toFixed(2)} ms` : ms < 100 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
}

export function fmtRatio(r: number | undefined): string {
  return r === undefined ? DASH : `${r.toFixed(2)}×`;
}

export function fmtPercent(fraction: number | undefined, digits = 2): string {
  return fraction === undefined ? DASH : `${(fraction * 100).toFixed(digits)}%`;
}
