// The worker never collects garbage (it never allocates), so it is replaced after collected
// programs dropped enough kernels; live programs register again with the new worker. This file
// exposes gc() for its own fork to make the collection happen.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { matmul, tensor, traceWith, type Tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { optimize, toProgram } from "../optimize.js";
import { compileKernelProgram } from "./program.js";
import { threadStats } from "@chainrule/wasm";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

function program(n: number) {
  const a = tensor(
    Float32Array.from({ length: n * n }, (_, i) => Math.sin(i)),
    { shape: [n, n] },
  );
  const graph = traceWith({}, ((xs: Tensor[]) => matmul(xs[0]!, xs[1]!)) as never, [a, a]);
  return {
    one: compileKernelProgram(optimize(toProgram(graph)), { threads: 1 })!,
    two: compileKernelProgram(optimize(toProgram(graph)), { threads: 2 })!,
    a,
  };
}

describe("the worker across collected programs", () => {
  it("is replaced after collected programs' kernels pile up, and live programs keep working", async () => {
    const restarts = threadStats.restarts;
    const live = program(96);
    const want = live.one.run(live.a.data, live.a.data)[0];
    expect(live.two.run(live.a.data, live.a.data)[0]).toEqual(want);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 20; i++)
        program(80 + (i % 3)).two.run(
          new Float32Array(6400 + 160 * (i % 3) + (i % 3) ** 2),
          new Float32Array(6400 + 160 * (i % 3) + (i % 3) ** 2),
        );
      gc();
      await new Promise((resolve) => setTimeout(resolve, 20));
      program(64); // a new program: the worker may be replaced now
      expect(live.two.run(live.a.data, live.a.data)[0]).toEqual(want);
    }
    expect(threadStats.restarts).toBeGreaterThan(restarts);
  }, 120_000);
});
