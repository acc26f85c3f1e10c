// Three small uPlot charts over the session's per-minute buckets: requests per minute (with
// failures), latency p50/p95, and credits used as a running total. Colours come from the theme's
// chart variables, re-read when the theme changes.

import uPlot from 'uplot';
import type { TrafficStats } from '../../../src/traffic/traffic-protocol';
import { el, setText } from './dom';
import * as fmt from './format';

const HEIGHT = 64;

interface ChartSpec {
  id: string;
  title: string;
  series: { label: string; colorVar: string; fallback: string; fill?: boolean; bars?: boolean }[];
  data(stats: TrafficStats): uPlot.AlignedData;
  format(value: number | null | undefined): string;
  /** Latest value shown next to the title when the cursor is not over the chart. */
  summary(stats: TrafficStats): string;
}

function xs(stats: TrafficStats): number[] {
  return stats.minutes.map((m) => m.t / 1000);
}

/** The time axis spans at least this much, so a session's first minutes read as clock times. */
export const MIN_WINDOW_SECONDS = 5 * 60;

/**
 * The time axis for minute buckets (seconds): the minutes the data covers, widened to the left to
 * MIN_WINDOW_SECONDS. uPlot stretches a single point of a seconds scale by 86 400 000 s, so a
 * session's first minute showed years on the axis.
 */
export function timeRange(xs: ArrayLike<number>): [number, number] | [null, null] {
  if (xs.length === 0) return [null, null];
  const first = xs[0]!;
  const last = xs[xs.length - 1]!;
  return [Math.min(first, last - MIN_WINDOW_SECONDS), last];
}

/**
 * Indexes of values with no value on either side: a line cannot draw them, so they get a dot (a
 * session's first minute, or one quiet minute's latency between idle ones).
 */
export function isolatedPoints(values: ArrayLike<number | null | undefined>): number[] {
  const present = (i: number) => i >= 0 && i < values.length && values[i] != null;
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) if (present(i) && !present(i - 1) && !present(i + 1)) out.push(i);
  return out;
}

const SPECS: ChartSpec[] = [
  {
    id: 'rpm',
    title: 'Requests / min',
    series: [
      { label: 'requests', colorVar: '--vscode-charts-blue', fallback: '#3794ff', fill: true, bars: true },
      { label: 'failed', colorVar: '--vscode-charts-red', fallback: '#f14c4c', bars: true },
    ],
    data: (s) => [xs(s), s.minutes.map((m) => m.requests), s.minutes.map((m) => m.failed)],
    format: (v) => (v == null ? '–' : String(v)),
    summary: (s) => `${s.requests} total · ${s.failed} failed${s.inFlight ? ` · ${s.inFlight} in flight` : ''}`,
  },
  {
    id: 'latency',
    title: 'Latency',
    series: [
      { label: 'p50', colorVar: '--vscode-charts-green', fallback: '#89d185' },
      { label: 'p95', colorVar: '--vscode-charts-orange', fallback: '#d18616' },
    ],
    data: (s) => [xs(s), s.minutes.map((m) => m.p50 ?? null), s.minutes.map((m) => m.p95 ?? null)],
    format: (v) => (v == null ? '–' : fmt.duration(v)),
    summary: (s) => (s.p50 === undefined ? 'no finished requests' : `p50 ${fmt.duration(s.p50)} · p95 ${fmt.duration(s.p95)}`),
  },
  {
    id: 'credits',
    title: 'Credits used',
    series: [{ label: 'credits', colorVar: '--vscode-charts-purple', fallback: '#b180d7', fill: true }],
    data: (s) => {
      let total = s.creditsBefore;
      return [xs(s), s.minutes.map((m) => (total += m.credits))];
    },
    format: (v) => (v == null ? '–' : fmt.credits(v)),
    summary: (s) => `${fmt.credits(s.credits)} this session`,
  },
];

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.body).getPropertyValue(name).trim() || fallback;
}

/** `#rrggbb` or `rgb()` plus alpha, for area fills. */
function withAlpha(color: string, alpha: number): string {
  const hex = /^#([0-9a-f]{6})([0-9a-f]{2})?$/i.exec(color);
  if (hex)
    return `#${hex[1]}${Math.round(alpha * 255)
      .toString(16)
      .padStart(2, '0')}`;
  const rgb = /^rgba?\(([^)]+)\)$/.exec(color);
  if (rgb) {
    const [r, g, b] = rgb[1]!.split(',').map((p) => p.trim());
    return `rgba(${r}, ${g}, ${b}, ${alpha})`;
  }
  return color;
}

class Chart {
  readonly element: HTMLElement;
  private readonly label: HTMLElement;
  private readonly value: HTMLElement;
  private readonly plotHost: HTMLElement;
  private plot: uPlot | undefined;
  private stats: TrafficStats | undefined;

  constructor(private readonly spec: ChartSpec) {
    this.label = el('span', { className: 'chart-title', text: spec.title });
    this.value = el('span', { className: 'chart-value' });
    this.plotHost = el('div', { className: 'chart-plot' });
    this.element = el(
      'figure',
      { className: `chart chart-${spec.id}`, attrs: { 'aria-label': spec.title } },
      el('figcaption', {}, this.label, this.value),
      this.plotHost,
    );
  }

  update(stats: TrafficStats): void {
    this.stats = stats;
    const data = this.spec.data(stats);
    if (!this.plot) this.build(data);
    else this.plot.setData(data);
    this.showSummary();
  }

  resize(): void {
    const width = Math.max(120, Math.floor(this.plotHost.clientWidth));
    if (this.plot && Math.abs(this.plot.width - width) > 1) this.plot.setSize({ width, height: HEIGHT });
  }

  /** Colours come from the theme: rebuild on theme change. */
  rebuild(): void {
    this.plot?.destroy();
    this.plot = undefined;
    if (this.stats) this.update(this.stats);
  }

  private showSummary(): void {
    if (this.stats) setText(this.value, this.spec.summary(this.stats));
  }

  private build(data: uPlot.AlignedData): void {
    const fg = cssVar('--vscode-descriptionForeground', '#9d9d9d');
    const grid = withAlpha(cssVar('--vscode-foreground', '#cccccc'), 0.12);
    const font = `10px ${cssVar('--vscode-font-family', 'sans-serif')}`;
    const spec = this.spec;
    const bars = uPlot.paths.bars?.({ size: [0.7, 12] });
    const opts: uPlot.Options = {
      width: Math.max(120, Math.floor(this.plotHost.clientWidth) || 240),
      height: HEIGHT,
      legend: { show: false },
      cursor: { y: false, points: { size: 5 }, drag: { x: false, y: false } },
      select: { show: false, left: 0, top: 0, width: 0, height: 0 },
      scales: {
        x: { time: true, range: (u) => timeRange(u.data[0]) },
        y: { range: (_u, _min, max) => [0, Math.max(max || 0, spec.id === 'rpm' ? 4 : 1) * 1.1] },
      },
      axes: [
        { stroke: fg, font, size: 16, gap: 2, ticks: { show: false }, grid: { show: false }, space: 60 },
        {
          stroke: fg,
          font,
          size: 36,
          gap: 2,
          ticks: { show: false },
          grid: { stroke: grid, width: 1 },
          space: 20,
          values: (_u, splits) => splits.map((v) => (spec.id === 'latency' ? fmt.duration(v) : fmt.count(v))),
        },
      ],
      series: [
        {},
        ...spec.series.map((s) => {
          const color = cssVar(s.colorVar, s.fallback);
          const series: uPlot.Series = {
            label: s.label,
            stroke: color,
            width: 1.5,
            points: s.bars ? { show: false } : { show: true, size: 4, fill: color, filter: (u, i) => isolatedPoints(u.data[i] ?? []) },
            spanGaps: false,
          };
          if (s.fill) series.fill = withAlpha(color, 0.25);
          if (s.bars && bars) {
            series.paths = bars;
            series.fill = withAlpha(color, s.fill ? 0.5 : 0.8);
          }
          return series;
        }),
      ],
      hooks: {
        setCursor: [
          (u) => {
            const idx = u.cursor.idx;
            if (idx == null || !this.stats) {
              this.showSummary();
              return;
            }
            const t = (u.data[0][idx] ?? 0) * 1000;
            const values = spec.series.map((s, i) => `${s.label} ${spec.format(u.data[i + 1]?.[idx])}`).join(' · ');
            setText(this.value, `${fmt.clockTime(t).slice(0, 5)} · ${values}`);
          },
        ],
      },
    };
    this.plot = new uPlot(opts, data, this.plotHost);
  }
}

export class Charts {
  readonly element: HTMLElement;
  private readonly charts = SPECS.map((spec) => new Chart(spec));

  constructor() {
    this.element = el('div', { className: 'charts' }, ...this.charts.map((c) => c.element));
    new ResizeObserver(() => this.charts.forEach((c) => c.resize())).observe(this.element);
    // VS Code swaps the body's theme class and variables when the user changes theme.
    new MutationObserver(() => this.charts.forEach((c) => c.rebuild())).observe(document.body, { attributes: true, attributeFilter: ['class'] });
  }

  update(stats: TrafficStats): void {
    if (this.element.hidden) return;
    for (const chart of this.charts) chart.update(stats);
  }
}
