/**
 * `threads: 2` never hangs: in processes whose flags a worker would inherit (`node
 * --input-type=module -e …`, a script on stdin), with a worker that cannot start, and with a
 * worker that dies during a job, the program finishes with the one-thread results, and
 * `kernelInfo()` says why one thread runs. Each case runs in a child node with a timeout.
 */
import { describe, expect, it } from "vitest";
import { runNode } from "../__tests__/node.js";

/** A matmul large enough for two threads, run on two and on one; prints what happened as JSON. */
const program = (before: string, calls = 3) => `
${before}
import { matmul, tensor } from "@chainrule/ir";
import { jit, kernelInfo, startThreads } from "@chainrule/jit";
const a = tensor(Float32Array.from({ length: 192 * 192 }, (_, i) => Math.sin(i)), { shape: [192, 192] });
const two = jit((x, y) => matmul(x, y), { threads: 2 });
const one = jit((x, y) => matmul(x, y), { threads: 1 });
const want = one(a, a).data;
let same = true;
const started = performance.now();
for (let i = 0; i < ${calls}; i++) same &&= two(a, a).data.every((v, j) => Object.is(v, want[j]));
const milliseconds = performance.now() - started;
const ready = await startThreads(5000);
const info = kernelInfo();
const unavailable = info.threadsUnavailable ?? null;
console.log(JSON.stringify({ same, milliseconds, ready, source: two.source.split("\\n")[0], unavailable, stats: info.threadStats }));
`;

interface Outcome {
  same: boolean;
  milliseconds: number;
  ready: boolean;
  source: string;
  unavailable: string | null;
  stats: { posted: number; workerBlocks: number };
}

function outcome(run: ReturnType<typeof runNode>): Outcome {
  expect(run.timedOut, `the child hung:\n${run.stderr}`).toBe(false);
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
  return JSON.parse(run.stdout) as Outcome;
}

/** Replaces worker_threads' Worker so that the worker's source is `mutate(source)` (before the JIT creates its worker). */
const sabotage = (mutate: string) => `
const threads = process.getBuiltinModule("node:worker_threads");
const Real = threads.Worker;
threads.Worker = class extends Real {
  constructor(code, options) {
    super((${mutate})(code), options);
  }
};`;

describe("two threads never hang", () => {
  it("node --input-type=module -e: the worker starts (no inherited flags) and two threads run", () => {
    const r = outcome(runNode(program(""), { timeoutMs: 60_000 }));
    expect(r.same).toBe(true);
    expect(r.source).toMatch(/2 threads/);
    expect(r.unavailable).toBeNull();
    expect(r.ready).toBe(true);
    expect(r.stats.posted).toBeGreaterThan(0);
  }, 90_000);

  it("the script on stdin: the same", () => {
    const r = outcome(runNode(program(""), { stdin: true, timeoutMs: 60_000 }));
    expect(r.same).toBe(true);
    expect(r.unavailable).toBeNull();
    expect(r.ready).toBe(true);
  }, 90_000);

  it("a worker that cannot start: one thread after a bounded wait, and the reason in kernelInfo()", () => {
    const r = outcome(runNode(program(sabotage(`() => 'throw new Error("this worker cannot start")'`)), { timeoutMs: 60_000 }));
    expect(r.same).toBe(true);
    expect(r.ready).toBe(false);
    expect(r.unavailable).toMatch(/^the worker thread failed \(Error: this worker cannot start\)$/);
    expect(r.stats.posted).toBe(0);
    // the first registration waited for the worker at most START_WAIT_MS (2 s), the others not at all
    expect(r.milliseconds).toBeLessThan(10_000);
  }, 90_000);

  it("a worker that dies during a job: the main thread computes its blocks again, then one thread with the reason", () => {
    const dies = `(code) => code.replace(/const job = Atomics\\.load\\(ctl, (\\d+)\\);/, (m) => m + " if (job !== -1) process.exit(7);")`;
    const r = outcome(runNode(program(sabotage(dies), 40), { timeoutMs: 60_000 }));
    expect(r.same).toBe(true);
    expect(r.ready).toBe(false);
    expect(r.unavailable).toBe("the worker thread exited while it ran a job");
    expect(r.stats.posted).toBeGreaterThan(0);
  }, 90_000);
});
