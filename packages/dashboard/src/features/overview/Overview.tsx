/** Requests/s, error rate, latency quantiles, cache hit ratio and connections, from successive stats snapshots. */
import { useMemo } from 'react';
import { Chart } from '../../components/Chart.tsx';
import { Stat } from '../../components/Stat.tsx';
import { Empty } from '../../components/States.tsx';
import { fmtMs, fmtPct, fmtRate } from '../../lib/format.ts';
import { selectSamples, useLive } from '../../lib/live-context.ts';
import { rateSeries } from '../../lib/rates.ts';

// Constant series: a chart rebuilds only when its series change.
const RPS = [{ label: 'req/s', color: '#2563eb' }];
const ERRORS = [{ label: '% 5xx', color: '#dc2626' }];
const LATENCY = [
  { label: 'p50', color: '#16a34a' },
  { label: 'p95', color: '#ca8a04' },
  { label: 'p99', color: '#dc2626' },
];

export function Overview() {
  const samples = useLive(selectSamples);
  const series = useMemo(() => rateSeries(samples), [samples]);
  const last = series[series.length - 1];
  const data = useMemo(() => {
    const t = series.map((r) => r.t / 1000);
    return {
      rps: [t, series.map((r) => r.rps)],
      errors: [t, series.map((r) => (r.errorRate == null ? null : r.errorRate * 100))],
      latency: [t, series.map((r) => r.p50), series.map((r) => r.p95), series.map((r) => r.p99)],
    };
  }, [series]);
  if (samples.length === 0) return <Empty>Waiting for the first statistics from the live stream…</Empty>;
  const total = Object.values(samples[samples.length - 1]!.stats.pools).reduce((n, p) => n + p.requests, 0);
  return (
    <section aria-label="Overview">
      <div className="stats">
        <Stat label="requests/s" value={fmtRate(last?.rps)} testId="rps" />
        <Stat label="requests in all" value={String(total)} testId="requests-total" />
        <Stat label="error rate (5xx)" value={fmtPct(last?.errorRate)} testId="error-rate" />
        <Stat label="latency p50" value={fmtMs(last?.p50)} testId="p50" />
        <Stat label="latency p95" value={fmtMs(last?.p95)} testId="p95" />
        <Stat label="latency p99" value={fmtMs(last?.p99)} testId="p99" />
        <Stat label="cache hit ratio" value={fmtPct(last?.hitRatio)} testId="hit-ratio" />
        <Stat label="active connections" value={String(last?.connections ?? samples[samples.length - 1]!.stats.connections)} testId="connections" />
      </div>
      {series.length === 0 ? (
        <Empty>Rates appear after the second snapshot (one second).</Empty>
      ) : (
        <div className="charts">
          <Chart title="Requests per second" series={RPS} data={data.rps} />
          <Chart title="Error rate (5xx)" series={ERRORS} data={data.errors} unit="%" />
          <Chart title="Latency" series={LATENCY} data={data.latency} unit=" ms" />
        </div>
      )}
    </section>
  );
}
