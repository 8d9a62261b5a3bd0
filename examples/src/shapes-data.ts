/**
 * A small image data set drawn here (nothing downloaded): grayscale `size`×`size` images of four
 * shapes — a horizontal bar, a vertical bar, a diagonal line and a square outline — at random
 * positions and lengths, with random brightness and Gaussian pixel noise. Seeded: the same seed
 * draws the same images.
 */
import { Random, Tensor } from "@chainrule/ir";

export const SHAPE_CLASSES = ["horizontal bar", "vertical bar", "diagonal", "square"] as const;

export interface ImageSet {
  /** Images, float64 [n, 1, size, size] (channels-first), values about in [0, 1]. */
  readonly x: Tensor;
  /** Class indices (SHAPE_CLASSES), int32 [n]. */
  readonly labels: Tensor;
}

/** An integer in [low, high]. */
const between = (random: Random, low: number, high: number) => low + Math.floor(random.nextFloat() * (high - low + 1));

/** Draws shape `label` into `image` (row-major size×size) with brightness `ink`. */
function draw(image: Float64Array, size: number, label: number, ink: number, random: Random): void {
  const set = (row: number, col: number) => {
    image[row * size + col] = ink;
  };
  if (label === 0 || label === 1) {
    const length = between(random, Math.ceil(size / 2), size - 2);
    const across = between(random, 1, size - 2);
    const start = between(random, 0, size - length);
    for (let i = start; i < start + length; i++) label === 0 ? set(across, i) : set(i, across);
  } else if (label === 2) {
    const length = between(random, Math.ceil(size / 2), size - 2);
    const row = between(random, 0, size - length);
    const col = between(random, 0, size - length);
    for (let i = 0; i < length; i++) set(row + i, col + i);
  } else {
    const side = between(random, 4, Math.max(4, size - 4));
    const row = between(random, 0, size - side);
    const col = between(random, 0, size - side);
    for (let i = 0; i < side; i++) {
      set(row, col + i);
      set(row + side - 1, col + i);
      set(row + i, col);
      set(row + i, col + side - 1);
    }
  }
}

/** `perClass` images of each class, shuffled, with pixel noise of standard deviation `noise`. */
export function drawnShapes(perClass: number, options: { seed?: number; size?: number; noise?: number } = {}): ImageSet {
  const { seed = 0, size = 12, noise = 0.1 } = options;
  const random = new Random(seed);
  const n = perClass * SHAPE_CLASSES.length;
  const order = Array.from({ length: n }, (_, i) => i % SHAPE_CLASSES.length);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random.nextFloat() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const pixels = new Float64Array(n * size * size);
  order.forEach((label, k) => {
    const image = new Float64Array(size * size);
    draw(image, size, label, 0.6 + 0.4 * random.nextFloat(), random);
    for (let p = 0; p < image.length; p++) pixels[k * size * size + p] = image[p]! + noise * random.nextNormal();
  });
  return { x: new Tensor("float64", [n, 1, size, size], pixels), labels: new Tensor("int32", [n], Int32Array.from(order)) };
}
