// A uPlot line chart over time: created and destroyed with the component, resized with its container, fed new data in place.
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface TimeSeries {
  label: string;
  /** One value per x; null leaves a gap (no sample, or nothing to measure). */
  values: (number | null)[];
}

interface TimeChartProps {
  title: string;
  /** Sample times in Unix seconds, ascending. */
  x: number[];
  series: TimeSeries[];
  /** How a value reads on the axis and in the legend, e.g. "12 ms". */
  format?: (value: number) => string;
  height?: number;
}

/** At least a minute on the x axis: with one or two samples uPlot would otherwise stretch it over years. */
function showWindow(chart: uPlot, x: ArrayLike<number>): void {
  if (x.length === 0) return;
  const last = x[x.length - 1];
  chart.setScale('x', { min: Math.min(x[0], last - 60), max: last });
}

const COLORS = ['#2457c5', '#1d7a3e', '#a15c00', '#b3261e', '#6b3fa0', '#00838f', '#5b6475', '#c2185b'];

export function TimeChart({ title, x, series, format = (v) => v.toFixed(2), height = 180 }: TimeChartProps) {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const formatRef = useRef(format);
  formatRef.current = format;
  const labels = series.map((s) => s.label).join('\u0000');
  const data: uPlot.AlignedData = [x, ...series.map((s) => s.values)];
  const dataRef = useRef(data);
  dataRef.current = data;

  // A new plot only when the set of series changes; new samples go through setData below.
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const show = (value: number | null) => (value == null ? '—' : formatRef.current(value));
    const options: uPlot.Options = {
      width: Math.max(200, element.clientWidth),
      height,
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: true },
        y: { range: (_u, min, max) => [Math.min(0, min), max > 0 ? max * 1.1 : 1] },
      },
      axes: [{}, { values: (_u, ticks) => ticks.map((t) => formatRef.current(t)), size: 70 }],
      series: [
        {},
        ...labels.split('\u0000').map((label, i) => ({
          label,
          stroke: COLORS[i % COLORS.length],
          width: 2,
          spanGaps: false,
          value: (_u: uPlot, v: number | null) => show(v),
        })),
      ],
    };
    const created = new uPlot(options, dataRef.current, element);
    showWindow(created, dataRef.current[0]);
    plot.current = created;
    const observer = new ResizeObserver(() => created.setSize({ width: Math.max(200, element.clientWidth), height }));
    observer.observe(element);
    return () => {
      observer.disconnect();
      created.destroy();
      plot.current = null;
    };
  }, [labels, height]);

  useEffect(() => {
    if (!plot.current) return;
    plot.current.setData(dataRef.current);
    showWindow(plot.current, dataRef.current[0]);
  });

  return (
    <figure className="time-chart">
      <figcaption>{title}</figcaption>
      <div ref={container} />
    </figure>
  );
}
