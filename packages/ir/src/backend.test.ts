import { afterEach, describe, expect, it } from "vitest";
import { type Backend, backendMatmul, backendRun, backendStatus, registerBackend, setBackend, withBackend } from "./backend.js";
import { ArgumentError } from "./errors.js";
import { add, matmul, tensor } from "./index.js";
import { Tensor } from "./tensor.js";

/** A backend that runs `add` as 2·(a + b) (so its use is visible) and declines everything else. */
function doubling(calls: string[]): Backend {
  return {
    name: "doubling",
    run: (prim, inputs, _params, out) => {
      calls.push(prim);
      if (prim !== "add") return undefined;
      const data = new Float64Array(inputs[0]!.size);
      for (let i = 0; i < data.length; i++) data[i] = 2 * (inputs[0]!.data[i]! + inputs[1]!.data[i]!);
      return new Tensor(out.dtype, out.shape.slice(), data);
    },
    unavailable: () => undefined,
    gemm: (a, _b, transA, transB) => {
      calls.push(`gemm ${transA} ${transB}`);
      return new Tensor(a.dtype, [1, 1], Float64Array.of(-1));
    },
    minInputElements: 2,
  };
}

afterEach(() => setBackend("js"));

describe("eager backends", () => {
  it("ir's JavaScript kernels run everything by default", () => {
    expect(backendStatus().name).toBe("js");
    expect(backendStatus().backends[0]).toEqual({ name: "js", unavailable: undefined });
    expect(Array.from(add(tensor([1, 2]), tensor([3, 4])).data)).toEqual([4, 6]);
  });

  it("an active backend is offered every primitive; what it declines runs on ir's kernels", () => {
    const calls: string[] = [];
    registerBackend(doubling(calls));
    expect(backendStatus().name).toBe("js"); // registering does not activate
    expect(setBackend("doubling")).toBe(true);
    expect(Array.from(add(tensor([1, 2]), tensor([3, 4])).data)).toEqual([8, 12]);
    expect(Array.from(matmul(tensor([[1, 2]]), tensor([[3], [4]])).data)).toEqual([11]);
    expect(calls).toEqual(["add", "matmul"]);
    // calls whose inputs are all smaller than minInputElements never reach it
    expect(add(1, 2).item()).toBe(3);
    expect(calls).toEqual(["add", "matmul"]);
    expect(withBackend("js", () => add(1, 2).item())).toBe(3);
    expect(backendStatus().name).toBe("doubling");
    expect(setBackend("js")).toBe(true);
    expect(add(1, 2).item()).toBe(3);
  });

  it("engines' fast paths reach the active backend through backendRun and backendMatmul", () => {
    const calls: string[] = [];
    const a = tensor([[1, 2]]);
    const b = tensor([[3, 4]]);
    expect(backendRun("add", [a, b], {})).toBeUndefined(); // none active
    expect(backendMatmul(a, b, false, true)).toBeUndefined();
    registerBackend(doubling(calls));
    setBackend("doubling");
    expect(Array.from(backendRun("add", [a, b], {})!.data)).toEqual([8, 12]);
    expect(backendRun("sub", [a, b], {})).toBeUndefined(); // declined
    expect(Array.from(backendMatmul(a, b, false, true)!.data)).toEqual([-1]);
    expect(backendMatmul(tensor([1, 2]), tensor([1, 2]), false, false)).toBeUndefined(); // not rank 2
    expect(calls).toEqual(["add", "sub", "gemm false true"]);
  });

  it("a backend that cannot run here is not activated, and says why", () => {
    registerBackend({ name: "refused", run: () => undefined, unavailable: () => "no SIMD here", minInputElements: 0 });
    expect(setBackend("refused")).toBe(false);
    expect(backendStatus().name).toBe("js");
    expect(backendStatus().backends).toContainEqual({ name: "refused", unavailable: "no SIMD here" });
  });

  it("rejects malformed backends and unknown names", () => {
    expect(() => registerBackend({ name: "js", run: () => undefined, unavailable: () => undefined, minInputElements: 0 })).toThrow(
      ArgumentError,
    );
    expect(() => registerBackend({ name: "x" } as never)).toThrow(
      'registerBackend: expected a backend { name (not "js"), run, unavailable, minInputElements, gemm? }, got an object',
    );
    expect(() => setBackend("nope")).toThrow('setBackend: expected the name of a registered backend ("js"');
    expect(() => withBackend("js", 3 as never)).toThrow("withBackend: expected a function, got number 3");
  });
});
