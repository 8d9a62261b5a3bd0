/** A dependency-free SVG line chart (for loss curves). */

export interface LineChartOptions {
  readonly title?: string;
  readonly xLabel?: string;
  readonly yLabel?: string;
  readonly width?: number;
  readonly height?: number;
  /** Plot log10 of the values (they must be > 0). */
  readonly logY?: boolean;
}

const escapeXml = (text: string) => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

function tickLabel(value: number): string {
  return Math.abs(value) >= 1e4 || (Math.abs(value) < 1e-3 && value !== 0) ? value.toExponential(1) : String(Number(value.toPrecision(3)));
}

/** An SVG document plotting `values` against their index. */
export function lineChartSvg(values: readonly number[], options: LineChartOptions = {}): string {
  const { title = "", xLabel = "step", yLabel = "", width = 640, height = 360, logY = false } = options;
  if (values.length === 0) throw new Error("lineChartSvg: expected at least one value, got none");
  const ys = values.map((v) => (logY ? Math.log10(v) : v));
  if (ys.some((y) => !Number.isFinite(y))) throw new Error(`lineChartSvg: expected finite${logY ? " positive" : ""} values`);
  const margin = { left: 76, right: 16, top: title ? 36 : 16, bottom: 44 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  let lo = Math.min(...ys);
  let hi = Math.max(...ys);
  if (hi === lo) {
    hi += 0.5;
    lo -= 0.5;
  }
  const n = values.length;
  const sx = (i: number) => margin.left + (n === 1 ? plotW / 2 : (i / (n - 1)) * plotW);
  const sy = (y: number) => margin.top + (1 - (y - lo) / (hi - lo)) * plotH;
  const points = ys.map((y, i) => `${sx(i).toFixed(2)},${sy(y).toFixed(2)}`).join(" ");
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
      `font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  if (title) parts.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(title)}</text>`);
  for (let k = 0; k <= 4; k++) {
    const y = lo + ((hi - lo) * k) / 4;
    const py = sy(y).toFixed(2);
    parts.push(`<line x1="${margin.left}" x2="${width - margin.right}" y1="${py}" y2="${py}" stroke="#e5e5e5"/>`);
    parts.push(
      `<text x="${margin.left - 6}" y="${py}" text-anchor="end" ` +
        `dominant-baseline="middle">${escapeXml(tickLabel(logY ? 10 ** y : y))}</text>`,
    );
  }
  for (let k = 0; k <= 4; k++) {
    const label = Math.round((n * k) / 4);
    parts.push(
      `<text x="${sx(Math.min(label, n - 1)).toFixed(2)}" y="${height - margin.bottom + 16}" text-anchor="middle">${label}</text>`,
    );
  }
  parts.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  parts.push(`<polyline fill="none" stroke="#2563eb" stroke-width="1.5" points="${points}"/>`);
  parts.push(`<text x="${margin.left + plotW / 2}" y="${height - 8}" text-anchor="middle">${escapeXml(xLabel)}</text>`);
  if (yLabel) {
    parts.push(
      `<text transform="translate(14 ${margin.top + plotH / 2}) rotate(-90)" ` +
        `text-anchor="middle">${escapeXml(yLabel)}${logY ? " (log scale)" : ""}</text>`,
    );
  }
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
