/** Tracers leaked out of a transformation are refused at the JIT's boundary, like by any op. */
import { ChainruleError, mul, tensor, type Tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { grad, hessian, hvp, jacobian, jit, jvp, valueAndGrad, vjp } from "./index.js";

/** A tracer of a jit transformation that has returned (kept by the traced function). */
function leak(): Tensor {
  let leaked: Tensor | undefined;
  grad((x: Tensor) => {
    leaked = x;
    return mul(x, x);
  })(tensor(3));
  return leaked!;
}

/** The escaped-tracer error `f` throws, checked against the one an op raises on the same tracer. */
function escapedError(f: () => unknown, op: string, leaked: Tensor): string {
  let opMessage = "";
  try {
    mul(leaked, 1);
  } catch (error) {
    opMessage = (error as Error).message;
  }
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(ChainruleError);
    expect((error as ChainruleError).code).toBe("ESCAPED_TRACER");
    // the same message as any op's, with the entry point's name in front
    expect((error as Error).message).toBe(opMessage.replace(/^mul:/, `${op}:`));
    return (error as Error).message;
  }
  throw new Error(`${op}: expected the escaped-tracer error, got a result`);
}

describe("leaked tracers", () => {
  it("jit(x => x)(leaked) raises the escaped-tracer error instead of returning the dead tracer", () => {
    const leaked = leak();
    const message = escapedError(() => jit((x: Tensor) => x)(leaked), "jit", leaked);
    expect(message).toMatch(
      /^jit: expected values of active transformations, got a .* tracer f64\[\] from a transformation that has already returned/,
    );
  });

  it("every JIT transformation refuses them, also inside another transformation and in a pytree", () => {
    const leaked = leak();
    const id = (x: Tensor) => x;
    escapedError(() => grad(id)(leaked), "grad", leaked);
    escapedError(() => valueAndGrad(id)(leaked), "valueAndGrad", leaked);
    escapedError(() => jacobian(id)(leaked), "jacobian", leaked);
    escapedError(() => hessian(id)(leaked), "hessian", leaked);
    escapedError(() => jvp(id, [leaked], [tensor(1)]), "jvp", leaked);
    escapedError(() => hvp(id, [leaked], [tensor(1)]), "hvp", leaked);
    escapedError(() => vjp(id, leaked), "vjp", leaked);
    escapedError(() => jit((t: { a: Tensor[] }) => t.a[0]!)({ a: [leaked] }), "jit", leaked);
    // inside an active transformation the JIT interprets: the dead tracer is refused there too
    escapedError(() => grad((x: Tensor) => mul(x, jit(id)(leaked)))(tensor(2)), "jit", leaked);
  });

  it("live tracers of an enclosing transformation still pass through", () => {
    expect(grad((x: Tensor) => mul(jit((y: Tensor) => y)(x), x))(3)).toBe(6);
  });
});
