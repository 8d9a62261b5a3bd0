/**
 * The typed-array fast paths (fast.ts) against the generic path (ir's JVP rules on chunks of
 * tangents), for every primitive ir defines by elementwise partials: float64 results agree
 * bitwise, in the scalar case (W1) and on tensors with scalar operands broadcast.
 */
import { bind, DEFINITIONS, PRIMITIVES, Tensor, type Primitive } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { createEngine } from "./index.js";

const fast = createEngine({ fastKernels: true, chunkSize: 3 });
const generic = createEngine({ fastKernels: false, chunkSize: 3 });

const ELEMENTWISE = PRIMITIVES.filter((p) => DEFINITIONS[p].elementwise !== undefined);

/** Values inside every primitive's domain, with zeros (0 · ∞ in sqrt′, log′) and a tie (maximum). */
const A = [0.5, 2, 1.5, 0, 0.25];
const B = [1.5, 2, 0.75, 1, 0];
const vector = (values: number[]) => new Tensor("float64", [values.length], Float64Array.from(values));
const scalar = (v: number) => new Tensor("float64", [], Float64Array.of(v));

function bits(t: unknown): string[] {
  const data = t instanceof Tensor ? Array.from(t.data) : Array.isArray(t) ? t.flatMap((x) => bits(x)) : [t as number];
  return data.map((v) => (Object.is(v, -0) ? "-0" : String(v)));
}

describe("forward fast paths agree bitwise with ir's rules", () => {
  it("cover every elementwise primitive (and only those)", () => {
    expect(ELEMENTWISE).toContain("atan2");
    expect(ELEMENTWISE).not.toContain("where");
  });

  it.each(ELEMENTWISE)("%s", (prim: Primitive) => {
    const arity = DEFINITIONS[prim].arity as number;
    const f = (...xs: Tensor[]) => bind(prim, xs.slice(0, arity), {});
    for (let i = 0; i < A.length; i++) {
      // scalars: one direction per input in one chunk, and jacobians through both paths
      const args = [A[i]!, B[i]!].slice(0, arity);
      expect(bits(fast.grad(f, arity === 1 ? 0 : [0, 1])(...args)), `${prim} grad at ${args}`).toEqual(
        bits(generic.grad(f, arity === 1 ? 0 : [0, 1])(...args)),
      );
    }
    // tensors: a full operand against a broadcast scalar, tangents with zeros
    const xs = [vector(A), scalar(B[0]!)].slice(0, arity);
    const ts = [vector([1, 0, -2, 0, 1]), scalar(0)].slice(0, arity);
    expect(bits(fast.jvp(f, xs, ts)), `${prim} jvp on tensors`).toEqual(bits(generic.jvp(f, xs, ts)));
    expect(bits(fast.jacobian(f, 0)(...xs)), `${prim} jacobian on tensors`).toEqual(bits(generic.jacobian(f, 0)(...xs)));
  });

  it("products that meet 0 · ∞ or NaN on full tensors take the zero-guarded pass (one tangent, and two)", () => {
    const x = vector([0, 2, Infinity, Number.NaN, 3]);
    const y = vector([Infinity, 3, 0, 1, -0]);
    const tx = vector([0, 1, 0, 1, 2]);
    const ty = vector([1, 0, 1, 0, 0]);
    for (const prim of ["mul", "div", "sqrt"] as const) {
      const arity = DEFINITIONS[prim].arity as number;
      const f = (...xs: Tensor[]) => bind(prim, xs.slice(0, arity), {});
      const args = [x, y].slice(0, arity);
      const tangents = [tx, ty].slice(0, arity);
      expect(bits(fast.jvp(f, args, tangents)), `${prim} jvp`).toEqual(bits(generic.jvp(f, args, tangents)));
      expect(bits(fast.jacobian(f, 0)(...args)), `${prim} jacobian`).toEqual(bits(generic.jacobian(f, 0)(...args)));
    }
  });
});
