/**
 * The seed: f(x, y) = (x + y)(x − y) at (3, 2) through all three engines. They must agree:
 * f = 5, ∂f/∂x = 2x = 6, ∂f/∂y = −2y = −4.
 *
 *   pnpm --filter @chainrule/examples run example:seed
 */
import { add, mul, sub, type Tensor } from "@chainrule/ir";
import { ENGINES } from "./engines.js";
import { isMain } from "./main.js";

export const f = (x: Tensor, y: Tensor): Tensor => mul(add(x, y), sub(x, y));

export interface SeedRow {
  readonly engine: string;
  readonly value: number;
  readonly gradient: readonly [number, number];
}

/** Value and gradient of the seed at (x, y) from every engine. */
export function seedThroughEngines(x = 3, y = 2): SeedRow[] {
  return ENGINES.map(({ name, engine }) => {
    // numbers in, numbers out
    const [value, gradient] = engine.valueAndGrad(f, [0, 1])(x, y);
    return { engine: name, value, gradient };
  });
}

/** Largest absolute difference between any two engines' numbers. */
export function largestDisagreement(rows: readonly SeedRow[]): number {
  let worst = 0;
  for (const a of rows) {
    for (const b of rows) {
      worst = Math.max(worst, Math.abs(a.value - b.value), ...a.gradient.map((g, i) => Math.abs(g - b.gradient[i]!)));
    }
  }
  return worst;
}

export function main(): void {
  const rows = seedThroughEngines();
  for (const row of rows) {
    console.log(`${row.engine.padEnd(8)} f(3, 2) = ${row.value}   ∇f = [${row.gradient.join(", ")}]`);
  }
  console.log(`largest disagreement between engines: ${largestDisagreement(rows)}`);
}

if (isMain(import.meta.url)) main();
