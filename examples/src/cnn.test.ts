// The CNN example (issue 18) with a small configuration (80 training images, 30 steps) so it stays within seconds.
import { engine as forward } from "@chainrule/forward";
import { engine as jit } from "@chainrule/jit";
import { XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { cnnLossSvg, trainCnn, trainCnnImperative } from "./cnn.js";
import { drawnShapes, SHAPE_CLASSES } from "./shapes-data.js";

const SMALL = { perClass: 20, steps: 30 } as const;

/** Largest relative difference of two loss curves. */
const drift = (a: readonly number[], b: readonly number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!) / Math.abs(b[i]!)));

describe("the CNN example", () => {
  it("reverse mode beats chance (25%) by a wide margin on held-out shapes (≥ 70%); jit computes the same losses", () => {
    const result = trainCnn(SMALL);
    expect(result.losses.at(-1)!).toBeLessThan(result.losses[0]! / 5);
    expect(result.testAccuracy).toBeGreaterThanOrEqual(0.7);
    const compiled = trainCnn({ ...SMALL, steps: 10, engine: jit });
    expect(drift(compiled.losses, result.losses.slice(0, 10))).toBeLessThan(1e-9);
    const svg = cnnLossSvg(result.losses);
    expect(XMLValidator.validate(svg)).toBe(true);
  }, 120_000);

  it("forward mode (a tiny configuration: its cost grows with the 884 parameters) gives reverse mode's losses", () => {
    const tiny = { perClass: 3, steps: 2 } as const;
    expect(drift(trainCnn({ ...tiny, engine: forward }).losses, trainCnn(tiny).losses)).toBeLessThan(1e-9);
  }, 120_000);

  it("the imperative modules (Conv2d, ReLU, MaxPool2d, Flatten, Linear) learn it too (≥ 70% held out)", () => {
    const result = trainCnnImperative(SMALL);
    expect(result.model.namedParameters().map(([name, p]) => [name, p.shape])).toEqual([
      ["0.weight", [8, 1, 3, 3]],
      ["0.bias", [8]],
      ["4.weight", [4, 200]],
      ["4.bias", [4]],
    ]);
    expect(result.testAccuracy).toBeGreaterThanOrEqual(0.7);
  }, 120_000);

  it("drawn shapes: balanced classes, seeded, [n, 1, size, size]", () => {
    const a = drawnShapes(5, { seed: 3, size: 10 });
    expect(a.x.shape).toEqual([20, 1, 10, 10]);
    const counts = SHAPE_CLASSES.map((_, c) => Array.from(a.labels.data).filter((l) => l === c).length);
    expect(counts).toEqual([5, 5, 5, 5]);
    expect(Array.from(drawnShapes(5, { seed: 3, size: 10 }).x.data)).toEqual(Array.from(a.x.data));
    expect(Array.from(drawnShapes(5, { seed: 4, size: 10 }).x.data)).not.toEqual(Array.from(a.x.data));
  });
});
