/**
 * A progress bar for training loops: redrawn in place on a terminal, a few plain lines otherwise
 * (CI logs stay short).
 */
export interface Progress {
  update(step: number, text?: string): void;
  done(text?: string): void;
}

export function progressBar(total: number, label: string, stream: NodeJS.WriteStream = process.stdout, width = 30): Progress {
  const tty = Boolean(stream.isTTY);
  let lastQuarter = -1;
  const render = (step: number, text = "") => {
    const fraction = total === 0 ? 1 : Math.min(1, step / total);
    const filled = Math.round(fraction * width);
    const bar = `${"█".repeat(filled)}${"░".repeat(width - filled)}`;
    return `${label} ${bar} ${String(Math.round(fraction * 100)).padStart(3)}% ${step}/${total}${text ? `  ${text}` : ""}`;
  };
  return {
    update(step, text) {
      if (tty) {
        stream.write(`\r${render(step, text)}\u001b[K`);
        return;
      }
      const quarter = Math.floor((4 * step) / Math.max(1, total));
      if (quarter > lastQuarter && quarter < 4) {
        lastQuarter = quarter;
        stream.write(`${render(step, text)}\n`);
      }
    },
    done(text) {
      stream.write(`${tty ? "\r" : ""}${render(total, text)}${tty ? "\u001b[K" : ""}\n`);
    },
  };
}
