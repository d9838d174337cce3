/**
 * A backend's own load report on its responses, as the Python companion sends it (in the spirit of Envoy's ORCA):
 * `X-Fulcrum-Load: inflight=3, utilization=0.42`. Utilization is work in flight over capacity and may pass 1 when
 * the backend is overloaded (as ORCA's application_utilization). The report is for the balancer: it is read for
 * pools whose balancer uses it (least-load) and never sent on to clients (forwarding.ts) nor cached.
 */

export const LOAD_HEADER = 'x-fulcrum-load';

const UTILIZATION = /(?:^|[,;\s])utilization=([0-9]*\.?[0-9]+)/i;
const INFLIGHT = /(?:^|[,;\s])inflight=([0-9]+)/i;
/** A bound on what one report can claim. */
const MAX_UTILIZATION = 100;

/**
 * The load the backend is left with once this response is done, or undefined without a (valid) report. A report
 * counts the request it answers: with `inflight=N` given, N − 1 of the N requests remain, so a lone request on an
 * idle backend (`inflight=1, utilization=0.12`) leaves 0, as a backend that sends no report would show.
 */
export function reportedLoad(headers: readonly string[]): number | undefined {
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    if (name.length !== LOAD_HEADER.length || name.toLowerCase() !== LOAD_HEADER) continue;
    const value = headers[i + 1]!;
    const m = UTILIZATION.exec(value);
    if (!m) return undefined;
    const utilization = Math.min(Number(m[1]), MAX_UTILIZATION);
    const inflight = INFLIGHT.exec(value);
    const n = inflight ? Number(inflight[1]) : 0;
    return n >= 1 ? (utilization * (n - 1)) / n : utilization;
  }
  return undefined;
}
