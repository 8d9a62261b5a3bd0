/** The progress bar `minimize` draws on a terminal. */

/** Where progress goes: anything with `write` (process.stderr by default); drawn only when `isTTY`. */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
}

/** A loss for display: 5 significant digits, exponent notation outside [1e-3, 1e5). */
export function formatLoss(loss: number): string {
  if (!Number.isFinite(loss)) return String(loss);
  const magnitude = Math.abs(loss);
  return magnitude === 0 || (magnitude >= 1e-3 && magnitude < 1e5) ? loss.toPrecision(5) : loss.toExponential(4);
}

export interface ProgressInfo {
  /** Updates done so far and the total planned. */
  readonly step: number;
  readonly steps: number;
  readonly loss: number;
  /** Bar width in characters (default 24). */
  readonly width?: number;
}

/** One line: `[██████░░░░░░]  50/100  loss 1.2346e-4`. */
export function renderProgress({ step, steps, loss, width = 24 }: ProgressInfo): string {
  const fraction = steps > 0 ? Math.min(1, Math.max(0, step / steps)) : 1;
  const filled = Math.round(fraction * width);
  const count = String(steps).length;
  return `[${"█".repeat(filled)}${"░".repeat(width - filled)}] ${String(step).padStart(count)}/${steps}  loss ${formatLoss(loss)}`;
}

/** Draws the bar in place (carriage return + clear line), at most every `intervalMs`, always for the last step. */
export class ProgressBar {
  private lastDraw = -Infinity;
  private drawn = false;
  constructor(
    private readonly stream: ProgressStream | undefined,
    private readonly intervalMs = 100,
  ) {}

  get active(): boolean {
    return this.stream?.isTTY === true;
  }

  update(info: ProgressInfo, force = false): void {
    if (!this.active) return;
    const now = Date.now();
    if (!force && now - this.lastDraw < this.intervalMs) return;
    this.lastDraw = now;
    this.drawn = true;
    this.stream!.write(`\r${renderProgress(info)}\x1b[K`);
  }

  /** Ends the line, and prints `message` below the bar when given. */
  finish(message?: string): void {
    if (!this.active) return;
    if (this.drawn) this.stream!.write("\n");
    if (message !== undefined) this.stream!.write(`${message}\n`);
  }
}
