export const fmtRate = (n: number | null | undefined) => (n == null ? '—' : n >= 100 ? n.toFixed(0) : n.toFixed(1));
export const fmtPct = (n: number | null | undefined) => (n == null ? '—' : `${(n * 100).toFixed(1)} %`);
export const fmtMs = (n: number | null | undefined) => (n == null ? '—' : `${n >= 100 ? n.toFixed(0) : n.toFixed(1)} ms`);
export function fmtBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}
