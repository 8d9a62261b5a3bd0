// The harness itself: wrong answers and exceptions are reported as FAILED and never timed,
// unsupported variants are n/a, correct ones are timed (no assertions on the times).
import { describe, expect, it } from "vitest";
import { handWritten } from "./impls/hand.js";
import { tensor, type Engine, type Tensor } from "@chainrule/ir";
import { eagerIr, engineImplementation, type EnginePackage } from "./impls/chainrule.js";
import { runVariant } from "./run.js";
import { timeInterleaved, type TimingOptions } from "./timing.js";
import { matmulVariant, rosenbrockVariants, seedVariant, type Implementation } from "./workloads.js";
import { rosenbrockGrad64 } from "./baselines.js";

const fast: TimingOptions = { warmupMs: 1, warmupCalls: 1, sampleMs: 0.5, rounds: 3, caseBudgetMs: 5, minRounds: 2 };

function fake(id: string, run: () => unknown): Implementation {
  return { id, label: id, group: "chainrule", build: () => ({ case: { run }, result: run }) };
}

describe("runVariant", () => {
  it("times right answers, fails wrong or throwing ones without timing them, lists unsupported ones", async () => {
    let wrongCalls = 0;
    const impls: Implementation[] = [
      handWritten,
      fake("right", () => [6, -4]),
      fake("wrong", () => {
        wrongCalls++;
        return [6, 4];
      }),
      fake("throws", () => {
        throw new Error("boom");
      }),
      { id: "none", label: "none", group: "peer", build: () => ({ unsupported: "not here" }) },
      { id: "quiet", label: "quiet", group: "peer", build: () => ({ unsupported: "hidden", quiet: true }) },
    ];
    const rows = await runVariant(seedVariant(), impls, fast);
    const byId = new Map(rows.map((r) => [r.impl.id, r]));
    expect(byId.get("hand")?.status).toBe("ok");
    expect(byId.get("right")?.status).toBe("ok");
    expect(byId.get("right")?.summary?.count).toBeGreaterThanOrEqual(2);
    expect(byId.get("wrong")?.status).toBe("FAILED");
    expect(byId.get("wrong")?.note).toMatch(/wrong answer: output 0\[1\]: expected -4, got 4/);
    expect(byId.get("wrong")?.summary).toBeUndefined();
    expect(wrongCalls).toBe(1); // checked once, never timed
    expect(byId.get("throws")?.status).toBe("FAILED");
    expect(byId.get("throws")?.note).toMatch(/boom/);
    expect(byId.get("none")?.status).toBe("n/a");
    expect(byId.has("quiet")).toBe(false);
  });

  it("a case that breaks while being timed is FAILED, not a record", async () => {
    let calls = 0;
    const flaky = fake("flaky", () => {
      calls++;
      if (calls > 3) throw new Error("refcount");
      return [6, -4];
    });
    const rows = await runVariant(seedVariant(), [handWritten, flaky], fast);
    const row = rows.find((r) => r.impl.id === "flaky")!;
    expect(row.status).toBe("FAILED");
    expect(row.note).toMatch(/threw while timed: Error: refcount/);
  });

  it("the hand-written W2 gradient and eager ir's primal and matmul pass their checks", async () => {
    const [grad, primal] = rosenbrockVariants(10, "float64", ["grad", "primal"]);
    const gradRows = await runVariant(
      grad!,
      [handWritten, fake("closed-form", () => rosenbrockGrad64(grad!.input.x as Float64Array))],
      fast,
    );
    expect(gradRows.map((r) => r.status)).toEqual(["ok", "ok"]);
    const primalRows = await runVariant(primal!, [handWritten, eagerIr], fast);
    expect(primalRows.map((r) => r.status)).toEqual(["ok", "ok"]);
    for (const dtype of ["float64", "float32"] as const) {
      const rows = await runVariant(matmulVariant(6, dtype), [handWritten, eagerIr], fast);
      expect(rows.map((r) => `${r.status} ${r.note}`)).toEqual([expect.stringMatching(/^ok/), expect.stringMatching(/^ok/)]);
    }
  });
});

describe("engine adapter", () => {
  it("a chainrule engine whose gradient is wrong is FAILED; a right one is timed", async () => {
    const [variant] = rosenbrockVariants(10, "float64", ["grad"]);
    const closedForm = (scale: number) =>
      ({
        name: "fake",
        specVersion: 1,
        grad: () => (x: Tensor) => tensor(rosenbrockGrad64(x.data as Float64Array).map((g) => g * scale)),
      }) as unknown as Engine;
    const pkg = (engine: Engine): EnginePackage & { engine: Engine } => ({ id: "reverse", packageName: "@chainrule/reverse", engine });
    const rows = await runVariant(
      variant!,
      [
        handWritten,
        engineImplementation(pkg(closedForm(1)), { idSuffix: "-right" }),
        engineImplementation(pkg(closedForm(2)), { idSuffix: "-wrong" }),
      ],
      fast,
    );
    expect(rows.map((r) => `${r.impl.id} ${r.status}`)).toEqual(["hand ok", "reverse-right ok", "reverse-wrong FAILED"]);
  });
});

describe("timeInterleaved", () => {
  it("takes one sample per round of every case and runs async cases", async () => {
    const counts = [0, 0];
    const timed = await timeInterleaved([{ run: () => counts[0]!++ }, { run: async () => counts[1]!++, async: true }], fast);
    expect(timed.length).toBe(2);
    for (const t of timed) {
      expect(t.error).toBeUndefined();
      expect(t.samples.length).toBe(t.summary.count);
      expect(t.summary.count).toBeGreaterThanOrEqual(fast.minRounds);
      expect(t.summary.min).toBeLessThanOrEqual(t.summary.median);
      expect(t.summary.median).toBeLessThanOrEqual(t.summary.max);
    }
    expect(counts[1]).toBeGreaterThan(0);
  });
});
