/**
 * checkpoint (remat) in reverse mode: what the backward pass holds of a deep chain drops, and the
 * gradients stay the same. Measured in a child `node --expose-gc` (test-scripts/checkpoint-memory.mts):
 * 48 layers × 4 elementwise ops on 32,768 float64s (256 KiB per value), checkpoint around each
 * block of 8 layers (elementwise fusion off: fused, the tape holds lazy values that are never
 * computed, not the arrays checkpoint is for); the bytes the tape (functional vjp) or the graph (imperative loss) holds after
 * the forward pass, heap + array buffers after full GCs, minus the baseline.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { cos, mul, sin, sum, tanh, tensor, type Tensor } from "@chainrule/ir";
import { backward, checkpoint, grad, variable, type Variable } from "./index.js";

const packageDir = fileURLToPath(new URL("..", import.meta.url));

type Measured = { mode: string; held: number; gradientSum: number };

function measure(env: Record<string, string>): Measured[] {
  const run = spawnSync(
    process.execPath,
    ["--expose-gc", "--conditions=@chainrule/source", "--import", "tsx", "test-scripts/checkpoint-memory.mts"],
    { cwd: packageDir, encoding: "utf8", timeout: 120_000, env: { ...process.env, ...env } },
  );
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout) as Measured[];
}

const VALUE = 32_768 * 8;

describe("checkpoint: memory of a deep chain's gradient", () => {
  for (const api of ["functional", "imperative"]) {
    it(`${api}: the forward pass holds the blocks' inputs only, not every intermediate; same gradient`, () => {
      const [plain, remat, everything] = measure({ API: api, FUSE: "0" }) as [Measured, Measured, Measured];
      // plain: ~4 values per layer × 48 layers (≈ 48 MiB); checkpointed: ~1 value per block × 6 blocks
      expect(plain.held).toBeGreaterThan(100 * VALUE);
      expect(remat.held).toBeLessThan(20 * VALUE);
      expect(remat.held * 8).toBeLessThan(plain.held);
      // "everythingSaveable" keeps everything, as without checkpoint
      expect(everything.held).toBeGreaterThan(100 * VALUE);
      expect(remat.gradientSum).toBeCloseTo(plain.gradientSum, 9);
      expect(everything.gradientSum).toBeCloseTo(plain.gradientSum, 9);
    }, 120_000);
  }
});

describe("checkpoint: values", () => {
  const layer = (h: Tensor) => tanh(mul(sin(h), cos(h)));
  // d/dh tanh(sin h·cos h) = (1 - tanh²(u))·cos(2h), u = sin h·cos h
  const d = (h: number) => {
    const u = Math.sin(h) * Math.cos(h);
    return (1 - Math.tanh(u) ** 2) * Math.cos(2 * h);
  };

  it("grad and the imperative backward through a checkpointed layer match the hand-computed derivative", () => {
    const remat = checkpoint(layer);
    const g = grad((x: Tensor) => sum(remat(x)))(tensor([0.3, -1.2]));
    expect((g as Tensor).toArray()).toEqual([d(0.3), d(-1.2)].map((v) => expect.closeTo(v, 12)));
    const v = variable(tensor([0.3, -1.2]), { requiresGrad: true });
    backward(sum(remat(v)) as Variable);
    expect(v.grad!.toArray()).toEqual([d(0.3), d(-1.2)].map((x) => expect.closeTo(x, 12)));
  });

  it("second order: grad of grad through checkpoint", () => {
    const remat = checkpoint((x: number) => mul(sin(x), x));
    // d²/dx² x·sin x = 2cos x - x·sin x
    expect(grad(grad(remat))(0.7)).toBeCloseTo(2 * Math.cos(0.7) - 0.7 * Math.sin(0.7), 12);
  });
});
