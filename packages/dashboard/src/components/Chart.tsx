/** A uPlot time series chart that follows its container's width; `data[0]` is time in seconds. */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';

const WINDOW_S = 120;

export interface ChartProps {
  title: string;
  series: Array<{ label: string; color: string }>;
  data: Array<Array<number | null>>;
  unit?: string;
  height?: number;
}

export function Chart({ title, series, data, unit = '', height = 180 }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const labels = series.map((s) => s.label).join('|');

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const u = new uPlot(
      {
        width: Math.max(el.clientWidth, 200),
        height,
        legend: { show: true },
        cursor: { drag: { x: false, y: false } },
        // The last two minutes, whatever is in the data: the chart scrolls instead of rescaling.
        scales: { x: { time: true, range: (_u, _min, max) => [max - WINDOW_S, max] } },
        axes: [{}, { values: (_u, ticks) => ticks.map((v) => `${v}${unit}`), size: 60 }],
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, spanGaps: true }))],
      },
      data as uPlot.AlignedData,
      el,
    );
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(el.clientWidth, 200), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // The chart is rebuilt only when its series change; data goes through setData below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [labels, height, unit]);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);

  return (
    <figure className="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} />
    </figure>
  );
}
