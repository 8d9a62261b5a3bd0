/** Datasets generated in the examples (seeded, so every run is the same). */
import { Random, tensor, type Tensor } from "@chainrule/ir";

export interface Classification {
  /** Points, shape [n, 2]. */
  readonly x: Tensor;
  /** Class indices 0/1, int32, shape [n]. */
  readonly labels: Tensor;
}

/**
 * Two interleaved spirals, `pointsPerClass` points each: the classic dataset a linear model
 * cannot separate. Each point sits at a uniformly random position along its arm (radius from 0.1
 * to 1 over `turns` turns) plus Gaussian noise of `noise`; different seeds give different samples.
 */
export function twoSpirals(pointsPerClass: number, options: { seed?: number; noise?: number; turns?: number } = {}): Classification {
  const { seed = 0, noise = 0.02, turns = 1.5 } = options;
  const random = new Random(seed);
  const points: number[][] = [];
  const labels: number[] = [];
  for (let c = 0; c < 2; c++) {
    for (let i = 0; i < pointsPerClass; i++) {
      const t = random.nextFloat();
      const radius = 0.1 + 0.9 * t;
      const angle = 2 * Math.PI * turns * t + c * Math.PI;
      points.push([radius * Math.cos(angle) + noise * random.nextNormal(), radius * Math.sin(angle) + noise * random.nextNormal()]);
      labels.push(c);
    }
  }
  return { x: tensor(points), labels: tensor(labels, { dtype: "int32" }) };
}
