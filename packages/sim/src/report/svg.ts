/** Small, dependency-free SVG charts for the HTML report: inline, labelled, with legends. */

import { secondsText } from './format.js';

export const palette = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#17becf',
  '#7f7f7f',
];

/** Escapes text for SVG and HTML. */
export function escapeXml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

/**
 * One line of a {@link lineChart}: a name and its points (`null` leaves a gap).
 * @inline
 */
export interface Series {
  readonly name: string;
  readonly points: ReadonlyArray<readonly [number, number | null]>;
  /**
   * A reference line (a formula's prediction): drawn last, thin, dark and dashed, on top of the
   * measured lines, which stay visible underneath it.
   */
  readonly dashed?: boolean;
}

/**
 * Options of {@link lineChart}.
 * @inline
 */
export interface LineChartOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /** A shaded x range (an incident), with its label. */
  readonly band?: { readonly from: number; readonly to: number; readonly label: string };
  readonly logY?: boolean;
  readonly width?: number;
  readonly height?: number;
}

/** "Nice" tick values covering [min, max]. */
export function ticks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const first = Math.ceil(min / step) * step;
  const out: number[] = [];
  for (let v = first; v <= max + step * 1e-9; v += step) out.push(Math.round(v / step) * step);
  // The last tick covers the maximum, so nothing is drawn above the axis.
  while (out.length === 0 || out[out.length - 1]! < max - step * 1e-9) {
    out.push(out.length === 0 ? first : out[out.length - 1]! + step);
  }
  return out;
}

function format(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${+(value / 1e6).toFixed(1)}M`;
  if (abs >= 1e4) return `${+(value / 1e3).toFixed(1)}k`;
  if (abs >= 100 || value === Math.round(value)) return String(Math.round(value));
  return String(+value.toFixed(2));
}

const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"';

/**
 * How series `i` of `n` is drawn so that no line hides another where their values coincide: a
 * colour, a dash pattern, a marker shape, and a width that shrinks with `i`, so that a later line
 * drawn over an earlier one leaves the earlier one's edges showing (a "halo").
 */
interface Style {
  readonly color: string;
  readonly width: number;
  readonly dash: string;
  readonly marker: Marker;
}
type Marker =
  | 'circle'
  | 'square'
  | 'triangle'
  | 'diamond'
  | 'cross'
  | 'down'
  | 'plus'
  | 'bar'
  | 'none';
const MARKERS: readonly Marker[] = [
  'circle',
  'square',
  'triangle',
  'diamond',
  'cross',
  'down',
  'plus',
  'bar',
];
const DASHES = ['', '9 4', '3 3', '12 3 3 3', '6 3', '2 5', '14 4', '5 2 1 2'];
const THEORY = '#111';

function styleOf(i: number, n: number, theory: boolean, underTheory = false): Style {
  // A reference line has no markers: the measured markers under it stay in sight.
  if (theory) return { color: THEORY, width: 1.4, dash: '6 4', marker: 'none' };
  return {
    color: palette[i % palette.length]!,
    // Under a reference line a measured line is wide enough to show on both sides of it.
    width: Math.max(underTheory ? 5 : 0, n <= 1 ? 2.5 : Math.min(7, 2 + 1.3 * (n - 1 - i))),
    dash: DASHES[i % DASHES.length]!,
    marker: MARKERS[i % MARKERS.length]!,
  };
}

function markerPath(marker: Marker, x: number, y: number, style: Style): string {
  const r = 4.2;
  const stroke = `stroke="${style.color}" stroke-width="1.6"`;
  // Odd-numbered shapes are hollow, so that two markers on one spot stay distinguishable.
  const fill = MARKERS.indexOf(marker) % 2 === 0 ? style.color : '#fff';
  const f = (v: number): string => v.toFixed(1);
  switch (marker) {
    case 'circle':
      return `<circle cx="${f(x)}" cy="${f(y)}" r="${r}" fill="${fill}" ${stroke}/>`;
    case 'square':
      return `<rect x="${f(x - r)}" y="${f(y - r)}" width="${2 * r}" height="${2 * r}" fill="${fill}" ${stroke}/>`;
    case 'triangle':
      return `<path d="M${f(x)} ${f(y - r - 1)}L${f(x + r + 1)} ${f(y + r)}L${f(x - r - 1)} ${f(y + r)}Z" fill="${fill}" ${stroke}/>`;
    case 'down':
      return `<path d="M${f(x)} ${f(y + r + 1)}L${f(x + r + 1)} ${f(y - r)}L${f(x - r - 1)} ${f(y - r)}Z" fill="${fill}" ${stroke}/>`;
    case 'diamond':
      return `<path d="M${f(x)} ${f(y - r - 1)}L${f(x + r + 1)} ${f(y)}L${f(x)} ${f(y + r + 1)}L${f(x - r - 1)} ${f(y)}Z" fill="${fill}" ${stroke}/>`;
    case 'cross':
      return `<path d="M${f(x - r)} ${f(y - r)}L${f(x + r)} ${f(y + r)}M${f(x - r)} ${f(y + r)}L${f(x + r)} ${f(y - r)}" stroke="${style.color}" stroke-width="2.2"/>`;
    case 'plus':
      return `<path d="M${f(x - r - 1)} ${f(y)}L${f(x + r + 1)} ${f(y)}M${f(x)} ${f(y - r - 1)}L${f(x)} ${f(y + r + 1)}" stroke="${style.color}" stroke-width="2.2"/>`;
    case 'bar':
      return `<path d="M${f(x - r - 1)} ${f(y)}L${f(x + r + 1)} ${f(y)}" stroke="${style.color}" stroke-width="2.4"/>`;
    case 'none':
      return '';
  }
}

interface Frame {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

interface Scales {
  readonly tx: (x: number) => number;
  readonly ty: (y: number) => number;
  readonly yTicks: readonly number[];
  readonly xMin: number;
  readonly xMax: number;
  readonly yMax: number;
}

function scalesFor(
  series: readonly Series[],
  frame: Frame,
  logY: boolean | undefined,
  yLimit?: number,
): Scales {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of series) {
    for (const [x, y] of s.points) {
      xs.push(x);
      if (y !== null && Number.isFinite(y) && (!logY || y > 0)) ys.push(y);
    }
  }
  if (xs.length === 0) xs.push(0, 1);
  if (ys.length === 0) ys.push(logY ? 1 : 0);
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  let yMin = logY ? Math.min(...ys) : Math.min(0, ...ys);
  let yMax = yLimit ?? Math.max(...ys);
  if (!(yMax > yMin)) yMax = yMin + 1;
  let yTicks: number[];
  let ty: (y: number) => number;
  const { top, height } = frame;
  if (logY) {
    const lo = Math.floor(Math.log10(yMin));
    const hi = Math.ceil(Math.log10(yMax));
    yMin = 10 ** lo;
    yMax = 10 ** Math.max(hi, lo + 1);
    yTicks = [];
    for (let p = lo; p <= Math.log10(yMax); p++) yTicks.push(10 ** p);
    ty = (y) =>
      top +
      height -
      ((Math.log10(y) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * height;
  } else {
    yTicks = ticks(yMin, yMax);
    yMax = Math.max(yMax, yTicks[yTicks.length - 1]!);
    ty = (y) => top + height - ((y - yMin) / (yMax - yMin)) * height;
  }
  const tx = (x: number): number =>
    frame.left + (xMax > xMin ? ((x - xMin) / (xMax - xMin)) * frame.width : frame.width / 2);
  return { tx, ty, yTicks, xMin, xMax, yMax };
}

/** Grid, band, ticks and axes of one plot area. */
function axes(
  parts: string[],
  frame: Frame,
  scales: Scales,
  options: {
    readonly band?: LineChartOptions['band'];
    readonly xLabel?: string;
    readonly yLabel?: string;
    readonly xTicks?: number;
  },
): void {
  const { left, top, width, height } = frame;
  const { tx, ty, xMin, xMax } = scales;
  if (options.band !== undefined) {
    const x0 = tx(Math.max(xMin, options.band.from));
    const x1 = tx(Math.min(xMax, options.band.to));
    parts.push(
      `<rect x="${x0.toFixed(1)}" y="${top}" width="${Math.max(0, x1 - x0).toFixed(1)}" height="${height}" fill="#f4c7c3" opacity="0.5"/>`,
      `<text x="${((x0 + x1) / 2).toFixed(1)}" y="${top + 14}" text-anchor="middle" fill="#a33">${escapeXml(options.band.label)}</text>`,
    );
  }
  for (const t of scales.yTicks) {
    const y = ty(t).toFixed(1);
    parts.push(
      `<line x1="${left}" x2="${left + width}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${format(t)}</text>`,
    );
  }
  // x ticks stay inside the data range (the y axis may extend to a round number; x may not).
  for (const t of ticks(xMin, xMax, options.xTicks ?? 8).filter(
    (v) => v >= xMin - 1e-9 && v <= xMax + 1e-9,
  )) {
    const x = tx(t).toFixed(1);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${top + height}" y2="${top + height + 5}" stroke="#333"/>`,
      `<text x="${x}" y="${top + height + 18}" text-anchor="middle">${format(t)}</text>`,
    );
  }
  parts.push(
    `<line x1="${left}" x2="${left}" y1="${top}" y2="${top + height}" stroke="#333"/>`,
    `<line x1="${left}" x2="${left + width}" y1="${top + height}" y2="${top + height}" stroke="#333"/>`,
  );
  if (options.xLabel !== undefined) {
    parts.push(
      `<text x="${left + width / 2}" y="${top + height + 36}" text-anchor="middle" font-weight="600">${escapeXml(options.xLabel)}</text>`,
    );
  }
  if (options.yLabel !== undefined) {
    parts.push(
      `<text transform="translate(${left - 54} ${top + height / 2}) rotate(-90)" text-anchor="middle" font-weight="600">${escapeXml(options.yLabel)}</text>`,
    );
  }
}

function pathOf(series: Series, scales: Scales, logY: boolean | undefined): string {
  let d = '';
  let pen = false;
  for (const [x, y] of series.points) {
    if (y === null || !Number.isFinite(y) || (logY && y <= 0)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${scales.tx(x).toFixed(1)} ${scales.ty(Math.min(y, scales.yMax)).toFixed(1)}`;
    pen = true;
  }
  return d;
}

/**
 * Markers of series `i` of `n`. With few points every point gets one, nudged sideways by a few
 * pixels per series (a "dodge"), so markers of lines with equal values sit side by side instead
 * of on top of each other; with many points, every `step`-th point, each series starting at a
 * different phase, for the same reason.
 */
function markersOf(
  series: Series,
  i: number,
  n: number,
  style: Style,
  scales: Scales,
  logY: boolean | undefined,
): string {
  if (style.marker === 'none') return '';
  const points = series.points;
  const step = points.length <= 24 ? 1 : Math.ceil(points.length / 12);
  const phase = step === 1 ? 0 : Math.floor((i * step) / Math.max(1, n));
  const dodge = step === 1 && n > 1 ? (i - (n - 1) / 2) * 3.5 : 0;
  let out = '';
  points.forEach(([x, y], j) => {
    if ((j - phase) % step !== 0 || j < phase) return;
    if (y === null || !Number.isFinite(y) || (logY && y <= 0)) return;
    out += markerPath(
      style.marker,
      scales.tx(x) + dodge,
      scales.ty(Math.min(y, scales.yMax)),
      style,
    );
  });
  return out;
}

function legendEntry(x: number, y: number, name: string, style: Style): string {
  return (
    `<line x1="${x}" x2="${x + 26}" y1="${y}" y2="${y}" stroke="${style.color}" stroke-width="${Math.min(4, style.width)}"${style.dash === '' ? '' : ` stroke-dasharray="${style.dash}"`}/>` +
    markerPath(style.marker, x + 13, y, style) +
    `<text x="${x + 32}" y="${y}" dominant-baseline="middle">${escapeXml(name)}</text>`
  );
}

/**
 * A line chart with axes, tick labels, axis titles and a legend. Every series has its own colour,
 * dash pattern and marker shape, and earlier series are drawn wider, so lines that coincide stay
 * visible; reference series (`dashed`) are drawn last, thin and dark, over the measured ones.
 */
export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 340;
  // Two legend columns when names are long, three otherwise.
  const columns = options.series.some((s) => s.name.length > 24) ? 2 : 3;
  const legendRows = Math.ceil(options.series.length / columns);
  const margin = { left: 70, right: 28, top: 34, bottom: 52 + legendRows * 20 };
  const frame = {
    left: margin.left,
    top: margin.top,
    width: width - margin.left - margin.right,
    height: height - margin.top - margin.bottom,
  };
  const scales = scalesFor(options.series, frame, options.logY);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(options.title)}" ${FONT} font-size="12">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="600">${escapeXml(options.title)}</text>`,
  );
  axes(parts, frame, scales, {
    ...(options.band === undefined ? {} : { band: options.band }),
    xLabel: options.xLabel,
    yLabel: options.yLabel,
  });
  const measured = options.series.filter((s) => !s.dashed);
  const n = measured.length;
  const theory = measured.length < options.series.length;
  // Measured lines first (widest first), reference lines last, on top.
  const ordered = [
    ...measured.map((s, i) => ({ s, style: styleOf(i, n, false, theory), i })),
    ...options.series.filter((s) => s.dashed).map((s, i) => ({ s, style: styleOf(i, n, true), i })),
  ];
  for (const { s, style, i } of ordered) {
    parts.push(
      `<path d="${pathOf(s, scales, options.logY)}" fill="none" stroke="${style.color}" stroke-width="${style.width}" stroke-linejoin="round"${style.dash === '' ? '' : ` stroke-dasharray="${style.dash}"`}${s.dashed ? '' : ' opacity="0.9"'}/>`,
      markersOf(s, i, n, style, scales, options.logY),
    );
  }
  ordered.forEach(({ s, style }, k) => {
    const col = k % columns;
    const row = Math.floor(k / columns);
    const lx = margin.left + col * (frame.width / columns);
    const ly = margin.top + frame.height + 50 + row * 20;
    parts.push(legendEntry(lx, ly, s.name, style));
  });
  parts.push('</svg>');
  return parts.join('');
}

/**
 * Options of {@link smallMultiples}.
 * @inline
 */
export interface SmallMultiplesOptions {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  /** One panel per series: that series in colour, every other series faint behind it. */
  readonly series: readonly Series[];
  readonly band?: LineChartOptions['band'];
  /** Panels per row. Default 2. */
  readonly columns?: number;
  readonly width?: number;
  /** Height of one panel. Default 190. */
  readonly panelHeight?: number;
}

/**
 * One small chart per series on a shared scale, the series in colour and all the others in light
 * grey behind it: with many series over time (every policy through one incident) each line gets
 * its own panel, so none can hide another, and the grey context still shows how it compares.
 */
export function smallMultiples(options: SmallMultiplesOptions): string {
  const columns = options.columns ?? 2;
  const width = options.width ?? 1300;
  const panelHeight = options.panelHeight ?? 190;
  const rows = Math.ceil(options.series.length / columns);
  const header = 34;
  const cellW = width / columns;
  const inner = { left: 70, right: 24, top: 24, bottom: 42 };
  const height = header + rows * panelHeight + 8;
  // One y scale for every panel (computed on a full-size frame, then mapped per panel).
  let yLimit = 0;
  for (const s of options.series) {
    for (const [, y] of s.points) if (y !== null && Number.isFinite(y) && y > yLimit) yLimit = y;
  }
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(options.title)}" ${FONT} font-size="12">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="600">${escapeXml(options.title)}</text>`,
  ];
  const n = options.series.length;
  options.series.forEach((focus, i) => {
    const col = i % columns;
    const row = Math.floor(i / columns);
    const frame = {
      left: col * cellW + inner.left,
      top: header + row * panelHeight + inner.top,
      width: cellW - inner.left - inner.right,
      height: panelHeight - inner.top - inner.bottom,
    };
    const scales = scalesFor(options.series, frame, false, yLimit);
    axes(parts, frame, scales, {
      ...(options.band === undefined ? {} : { band: options.band }),
      yLabel: options.yLabel,
      xTicks: 6,
    });
    parts.push(
      `<text x="${frame.left + frame.width - 4}" y="${frame.top + frame.height + 32}" text-anchor="end" fill="#555">${escapeXml(options.xLabel)}</text>`,
    );
    for (const other of options.series) {
      if (other === focus) continue;
      parts.push(
        `<path d="${pathOf(other, scales, false)}" fill="none" stroke="#c8c8c8" stroke-width="1.2"/>`,
      );
    }
    const style = { ...styleOf(i, n, false), width: 2.4, dash: '' };
    parts.push(
      `<path d="${pathOf(focus, scales, false)}" fill="none" stroke="${style.color}" stroke-width="2.4" stroke-linejoin="round"/>`,
      `<text x="${frame.left + 6}" y="${frame.top - 7}" font-weight="600" fill="${style.color}">${escapeXml(focus.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return parts.join('');
}

/**
 * Options of {@link barChart}.
 * @inline
 */
export interface BarChartOptions {
  readonly title: string;
  readonly yLabel: string;
  readonly bars: ReadonlyArray<{
    readonly label: string;
    readonly value: number | null;
    readonly note?: string;
  }>;
  /** A dashed reference line (e.g. amplification 1). */
  readonly reference?: { readonly value: number; readonly label: string };
  readonly width?: number;
  readonly height?: number;
}

/** A vertical bar chart, one bar per category, values printed on the bars. */
export function barChart(options: BarChartOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 380;
  const longest = Math.max(0, ...options.bars.map((b) => b.label.length));
  // With a reference line its label sits above the plot (a label on the line would collide with
  // the value printed on a bar of about the same height).
  const top = options.reference === undefined ? 34 : 46;
  const margin = { left: 70, right: 20, top, bottom: 24 + Math.min(150, longest * 3.2) };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const values = options.bars.map((b) => b.value ?? 0);
  const yTicks = ticks(0, Math.max(1e-9, ...values, options.reference?.value ?? 0));
  const yMax = yTicks[yTicks.length - 1]! || 1;
  const ty = (y: number): number => margin.top + plotH - (y / yMax) * plotH;
  const slot = plotW / Math.max(1, options.bars.length);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(options.title)}" ${FONT} font-size="12">`,
    `<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="600">${escapeXml(options.title)}</text>`,
  );
  for (const t of yTicks) {
    const y = ty(t).toFixed(1);
    parts.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${margin.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${format(t)}</text>`,
    );
  }
  options.bars.forEach((bar, i) => {
    const x = margin.left + i * slot + slot * 0.15;
    const w = slot * 0.7;
    const color = palette[i % palette.length]!;
    if (bar.value !== null) {
      const y = ty(bar.value);
      parts.push(
        `<rect x="${x.toFixed(1)}" y="${y.toFixed(1)}" width="${w.toFixed(1)}" height="${(margin.top + plotH - y).toFixed(1)}" fill="${color}"/>`,
        `<text x="${(x + w / 2).toFixed(1)}" y="${(y - 4).toFixed(1)}" text-anchor="middle">${escapeXml(bar.note ?? format(bar.value))}</text>`,
      );
    } else {
      parts.push(
        `<text x="${(x + w / 2).toFixed(1)}" y="${(margin.top + plotH - 6).toFixed(1)}" text-anchor="middle" fill="#a33">${escapeXml(bar.note ?? 'n/a')}</text>`,
      );
    }
    const lx = x + w / 2;
    const ly = margin.top + plotH + 10;
    parts.push(
      // Rotated to end under the bar, so long labels run left into the chart's width, not off it.
      `<text transform="translate(${lx.toFixed(1)} ${ly}) rotate(-30)" text-anchor="end" font-size="11">${escapeXml(bar.label)}</text>`,
    );
  });
  if (options.reference !== undefined) {
    const y = ty(options.reference.value).toFixed(1);
    parts.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y}" y2="${y}" stroke="#333" stroke-dasharray="5 4"/>`,
      `<line x1="${margin.left + plotW - 150}" x2="${margin.left + plotW - 126}" y1="${margin.top - 12}" y2="${margin.top - 12}" stroke="#333" stroke-dasharray="5 4"/>`,
      `<text x="${margin.left + plotW - 120}" y="${margin.top - 12}" dominant-baseline="middle" fill="#333">${escapeXml(options.reference.label)}</text>`,
    );
  }
  parts.push(
    `<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="#333"/>`,
    `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" stroke="#333"/>`,
    `<text transform="translate(16 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-weight="600">${escapeXml(options.yLabel)}</text>`,
    '</svg>',
  );
  return parts.join('');
}

/**
 * A bar chart of the time each configuration took to recover, in seconds; one that did not
 * recover within the run gets no bar and `never` as its note.
 */
export function recoveryChart(
  title: string,
  entries: ReadonlyArray<{ readonly label: string; readonly timeToRecover: number | null }>,
  never: string,
): string {
  return barChart({
    title,
    yLabel: 'seconds',
    bars: entries.map(({ label, timeToRecover }) => ({
      label,
      value: timeToRecover === null ? null : timeToRecover / 1000,
      note: timeToRecover === null ? never : secondsText(timeToRecover),
    })),
  });
}
