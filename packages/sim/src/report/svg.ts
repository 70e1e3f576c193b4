/** Small, dependency-free SVG charts for the HTML report: inline, labelled, with legends. */

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

/** A line chart with axes, tick labels, axis titles and a legend. */
export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 340;
  // Two legend columns when names are long, three otherwise.
  const columns = options.series.some((s) => s.name.length > 24) ? 2 : 3;
  const legendRows = Math.ceil(options.series.length / columns);
  const margin = { left: 70, right: 28, top: 34, bottom: 52 + legendRows * 18 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of options.series) {
    for (const [x, y] of s.points) {
      xs.push(x);
      if (y !== null && Number.isFinite(y) && (!options.logY || y > 0)) ys.push(y);
    }
  }
  const xMin = Math.min(...xs);
  const xMax = Math.max(...xs);
  let yMin = options.logY ? Math.min(...ys) : Math.min(0, ...ys);
  let yMax = Math.max(...ys);
  if (!(yMax > yMin)) yMax = yMin + 1;
  let yTicks: number[];
  let ty: (y: number) => number;
  if (options.logY) {
    const lo = Math.floor(Math.log10(yMin));
    const hi = Math.ceil(Math.log10(yMax));
    yMin = 10 ** lo;
    yMax = 10 ** Math.max(hi, lo + 1);
    yTicks = [];
    for (let p = lo; p <= Math.log10(yMax); p++) yTicks.push(10 ** p);
    ty = (y) =>
      margin.top +
      plotH -
      ((Math.log10(y) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * plotH;
  } else {
    yTicks = ticks(yMin, yMax);
    yMax = Math.max(yMax, yTicks[yTicks.length - 1]!);
    ty = (y) => margin.top + plotH - ((y - yMin) / (yMax - yMin)) * plotH;
  }
  const tx = (x: number): number =>
    margin.left + (xMax > xMin ? ((x - xMin) / (xMax - xMin)) * plotW : plotW / 2);
  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="${escapeXml(options.title)}" ${FONT} font-size="12">`,
  );
  parts.push(`<rect x="0" y="0" width="${width}" height="${height}" fill="#fff"/>`);
  parts.push(
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="14" font-weight="600">${escapeXml(options.title)}</text>`,
  );
  if (options.band !== undefined) {
    const x0 = tx(Math.max(xMin, options.band.from));
    const x1 = tx(Math.min(xMax, options.band.to));
    parts.push(
      `<rect x="${x0.toFixed(1)}" y="${margin.top}" width="${Math.max(0, x1 - x0).toFixed(1)}" height="${plotH}" fill="#f4c7c3" opacity="0.5"/>`,
      `<text x="${((x0 + x1) / 2).toFixed(1)}" y="${margin.top + 14}" text-anchor="middle" fill="#a33">${escapeXml(options.band.label)}</text>`,
    );
  }
  for (const t of yTicks) {
    const y = ty(t).toFixed(1);
    parts.push(
      `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${y}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${margin.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${format(t)}</text>`,
    );
  }
  // x ticks stay inside the data range (the y axis may extend to a round number; x may not).
  for (const t of ticks(xMin, xMax, 8).filter((v) => v >= xMin - 1e-9 && v <= xMax + 1e-9)) {
    const x = tx(t).toFixed(1);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${margin.top + plotH}" y2="${margin.top + plotH + 5}" stroke="#333"/>`,
      `<text x="${x}" y="${margin.top + plotH + 18}" text-anchor="middle">${format(t)}</text>`,
    );
  }
  parts.push(
    `<line x1="${margin.left}" x2="${margin.left}" y1="${margin.top}" y2="${margin.top + plotH}" stroke="#333"/>`,
    `<line x1="${margin.left}" x2="${margin.left + plotW}" y1="${margin.top + plotH}" y2="${margin.top + plotH}" stroke="#333"/>`,
    `<text x="${margin.left + plotW / 2}" y="${margin.top + plotH + 36}" text-anchor="middle" font-weight="600">${escapeXml(options.xLabel)}</text>`,
    `<text transform="translate(16 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle" font-weight="600">${escapeXml(options.yLabel)}</text>`,
  );
  options.series.forEach((s, i) => {
    const color = palette[i % palette.length]!;
    let d = '';
    let pen = false;
    for (const [x, y] of s.points) {
      if (y === null || !Number.isFinite(y) || (options.logY && y <= 0)) {
        pen = false;
        continue;
      }
      d += `${pen ? 'L' : 'M'}${tx(x).toFixed(1)} ${ty(Math.min(y, yMax)).toFixed(1)}`;
      pen = true;
    }
    parts.push(
      `<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    const col = i % columns;
    const row = Math.floor(i / columns);
    const lx = margin.left + col * (plotW / columns);
    const ly = margin.top + plotH + 50 + row * 18;
    parts.push(
      `<line x1="${lx}" x2="${lx + 18}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="3"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      `<text x="${lx + 24}" y="${ly}" dominant-baseline="middle">${escapeXml(s.name)}</text>`,
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
  const margin = { left: 70, right: 20, top: 34, bottom: 24 + Math.min(150, longest * 3.2) };
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
      `<text x="${margin.left + plotW - 4}" y="${Number(y) - 5}" text-anchor="end" fill="#333">${escapeXml(options.reference.label)}</text>`,
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
