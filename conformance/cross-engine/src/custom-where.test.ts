/**
 * fast-check properties: random programs that mix the graph vocabulary with functions that have
 * custom rules (correct ones) and with data-dependent `where`. With customJvp functions every
 * engine must agree with the others and with eager evaluation; with customVjp functions reverse
 * and jit must agree with each other and with finite differences, while forward mode raises the
 * error that names the function (the forward engine, and every engine's jvp).
 */
import {
  compareEngines,
  CUSTOM_JVP_UNITS,
  CUSTOM_VJP_UNITS,
  formatDisagreement,
  programArbitrary,
  programFunction,
  programInputs,
  UNITS,
  WHERE_UNITS,
  type Unit,
} from "@chainrule/conformance";
import { engine as forward } from "@chainrule/forward";
import { add, ForwardModeError, mul, Random, sum, type Tensor, type Engine } from "@chainrule/ir";
import { engine as jit } from "@chainrule/jit";
import { engine as reverse } from "@chainrule/reverse";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const runs = Number(process.env["CHAINRULE_GRAPHS"] ?? 25);

type Fn = (...xs: Tensor[]) => [Tensor, Tensor];
type Loose = {
  jvp: (f: Fn, primals: Tensor[], tangents: Tensor[]) => unknown;
  vjp: (f: Fn, ...primals: Tensor[]) => [unknown, (ct: Tensor[]) => Tensor[]];
};
const loose = (e: Engine) => e as unknown as Loose;

/**
 * `list` repeated so that it makes up about `share` of a vocabulary beside UNITS (which grows with
 * every new op: a fixed number of copies would be drawn ever more rarely).
 */
function weighted<T>(list: readonly T[], share: number): T[] {
  const copies = Math.max(1, Math.ceil((share * UNITS.length) / ((1 - share) * list.length)));
  return Array.from({ length: copies }, () => list).flat();
}

/** Counts how often the units of `list` produced a value (so a property knows what it exercised). */
function counted(list: readonly (readonly [string, Unit])[], counter: { n: number }): (readonly [string, Unit])[] {
  return list.map(([name, unit]) => [
    name,
    (...args: Parameters<Unit>) => {
      const out = unit(...args);
      if (out !== undefined) counter.n++;
      return out;
    },
  ]);
}

const values = (t: Tensor): number[] => Array.from(t.data as ArrayLike<number>);

function expectClose(what: string, got: readonly number[], want: readonly number[], rtol: number, atol: number): void {
  expect(got.length, what).toBe(want.length);
  got.forEach((g, i) => {
    const w = want[i]!;
    if (Math.abs(g - w) > atol + rtol * Math.abs(w)) throw new Error(`${what}: element ${i} is ${g}, expected ${w}`);
  });
}

describe("cross-engine: random programs with custom rules and where", () => {
  it("customJvp functions and data-dependent where: forward, reverse, jit and eager agree (primal, jvp, vjp)", () => {
    const custom = { n: 0 };
    const units = [...UNITS, ...weighted(counted(CUSTOM_JVP_UNITS, custom), 0.25), ...weighted(WHERE_UNITS, 0.1)];
    fc.assert(
      fc.property(programArbitrary(), (program) => {
        const report = compareEngines([forward, reverse, jit], {
          cases: [{ name: "random program", fn: programFunction(program, units), args: programInputs(program) }],
          seed: program.seed,
        });
        if (report.first !== undefined) throw new Error(formatDisagreement(report.first));
      }),
      { numRuns: runs, seed: 16 },
    );
    expect(custom.n).toBeGreaterThan(runs);
  }, 600_000);

  it("customVjp functions: reverse, jit and finite differences agree on vjp; forward mode raises the error naming it", () => {
    const used = { n: 0 };
    const units = [...UNITS, ...weighted(counted(CUSTOM_VJP_UNITS, used), 0.25), ...CUSTOM_JVP_UNITS, ...WHERE_UNITS];
    let exercised = 0;
    fc.assert(
      fc.property(programArbitrary(), (program) => {
        const f = programFunction(program, units);
        const args = programInputs(program);
        used.n = 0;
        const eager = f(...args);
        if (used.n === 0) return;
        exercised++;
        const rng = new Random(program.seed);
        const directions = args.map((x) => rng.normal(x.shape as number[]));
        const weights = eager.map((y) => rng.normal(y.shape as number[]));
        for (const e of [forward, reverse, jit]) {
          expect(() => loose(e).jvp(f, args, directions), `${e.name} jvp`).toThrow(ForwardModeError);
        }
        expect(() => loose(forward).vjp(f, ...args)[1](weights), "forward vjp").toThrow(ForwardModeError);
        const pulled = [reverse, jit].map((e) => loose(e).vjp(f, ...args)[1](weights));
        pulled[1]!.forEach((g, i) => expectClose(`jit vs reverse, cotangent ${i}`, values(g), values(pulled[0]![i]!), 1e-9, 1e-11));
        // ⟨vjp(w), u⟩ against the finite difference of ⟨w, f(x + t·u)⟩ (the rules are correct)
        const along = (t: number) => {
          const ys = f(...args.map((x, i) => add(x, mul(directions[i]!, t))));
          return ys.reduce((s, y, o) => s + sum(mul(y, weights[o]!)).item(), 0);
        };
        const eps = 1e-3;
        const fd = (along(-2 * eps) - 8 * along(-eps) + 8 * along(eps) - along(2 * eps)) / (12 * eps);
        const dot = pulled[0]!.reduce((s, g, i) => s + sum(mul(g, directions[i]!)).item(), 0);
        expectClose("⟨vjp(w), u⟩ vs finite differences", [dot], [fd], 1e-6, 1e-7);
      }),
      { numRuns: runs, seed: 17 },
    );
    expect(exercised).toBeGreaterThan(runs / 2);
  }, 600_000);
});
