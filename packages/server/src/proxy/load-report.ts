/**
 * A backend's own load report on its responses, as the Python companion sends it (in the spirit of Envoy's ORCA):
 * `X-Fulcrum-Load: inflight=3, utilization=0.42`. Only read for pools whose balancer uses it (least-load).
 */

const UTILIZATION = /(?:^|[,;\s])utilization=([0-9]*\.?[0-9]+)/i;

/** The reported utilization in [0, 1], or undefined when the response carries no (valid) report. */
export function reportedUtilization(headers: readonly string[]): number | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.length !== 14 || name.toLowerCase() !== 'x-fulcrum-load') continue;
    const m = UTILIZATION.exec(headers[i + 1]!);
    if (m) return Math.min(Number(m[1]), 1);
  }
  return undefined;
}
