// A uPlot bar chart of one metric per version: created and destroyed with the component, resized with its container.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatMetric } from './metric-format.ts';

export interface MetricBar {
  label: string;
  value: number | null;
}

const HEIGHT = 220;

export function MetricChart({ metric, bars }: { metric: string; bars: MetricBar[] }) {
  const container = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const labels = bars.map((bar) => bar.label);
    const bar = uPlot.paths.bars?.({ size: [0.6, 80] });
    const options: uPlot.Options = {
      width: Math.max(element.clientWidth, 200),
      height: HEIGHT,
      legend: { show: false },
      cursor: { show: false },
      // x is the version's position; the axis writes its label.
      // Bars start at zero so their heights compare honestly.
      scales: {
        x: { time: false, range: [-0.5, bars.length - 0.5] },
        y: { range: (_plot, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] },
      },
      axes: [
        { values: (_plot, ticks) => ticks.map((tick) => labels[tick] ?? ''), splits: () => bars.map((_b, index) => index) },
        { label: metric },
      ],
      series: [{}, { label: metric, stroke: '#2457c5', fill: 'rgba(36, 87, 197, 0.35)', paths: bar, points: { show: true } }],
    };
    const data: uPlot.AlignedData = [bars.map((_b, index) => index), bars.map((b) => b.value)];
    const plot = new uPlot(options, data, element);
    const observer = new ResizeObserver(() => plot.setSize({ width: Math.max(element.clientWidth, 200), height: HEIGHT }));
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [metric, bars]);
  return (
    <div
      ref={container}
      className="chart"
      role="img"
      aria-label={`${metric} by version: ${bars.map((b) => `${b.label} ${formatMetric(b.value)}`).join(', ')}`}
    />
  );
}
