import { describe, expect, it } from "vitest";
import { expectError } from "./__tests__/helpers.js";
import {
  ARITY,
  ArgumentError,
  ChainruleError,
  ConcretizationError,
  DTYPES,
  DTypeError,
  GraphError,
  NanError,
  PRIMITIVES,
  ShapeError,
  Tensor,
  Trace,
  Tracer,
  bind,
  broadcastShapes,
  broadcastedAxes,
  checkNans,
  config,
  currentTrace,
  findTopTrace,
  formatShape,
  inferAval,
  isFloat,
  isPrimitive,
  log,
  nextLevel,
  normalizeAxes,
  normalizeAxis,
  promoteTypes,
  raiseAll,
  shapesEqual,
  sizeOf,
  tensor,
  withDebugNans,
  withTrace,
  zeros,
  type Aval,
  type Params,
  type Primitive,
} from "./index.js";
import { isFloatTensor } from "./ops.js";
import { describeValue } from "./errors.js";

/** A trace that records which primitives reach it and evaluates them on the level below. */
class RecordingTracer extends Tracer {
  constructor(
    readonly trace: RecordingTrace,
    readonly value: Tensor,
  ) {
    super(value);
  }
  concrete(): Tensor {
    return this.value;
  }
}
class RecordingTrace extends Trace {
  readonly name = "recording";
  readonly seen: string[] = [];
  constant(value: Tensor): Tracer {
    return new RecordingTracer(this, value);
  }
  processPrimitive<P extends Primitive>(prim: P, inputs: Tracer[], params: Params<P>, out: Aval): Tracer {
    this.seen.push(`${prim}:${formatShape(out.shape)}`);
    return new RecordingTracer(
      this,
      bind(
        prim,
        inputs.map((t) => (t as RecordingTracer).value),
        params,
      ),
    );
  }
}

describe("interpreter machinery (trace.ts)", () => {
  it("bind evaluates eagerly without tracers and routes to the top trace otherwise", () => {
    expect(currentTrace()).toBeUndefined();
    expect(nextLevel()).toBe(1);
    const seen = withTrace(
      (level) => new RecordingTrace(level),
      (trace) => {
        expect(trace.level).toBe(1);
        expect(currentTrace()).toBe(trace);
        const x = new RecordingTracer(trace, tensor([1, 2]));
        const y = bind("mul", [x, tensor([3, 4])], {});
        expect(y).toBeInstanceOf(RecordingTracer);
        expect(Array.from(y.data)).toEqual([3, 8]); // data reads the concrete value
        expect(bind("add", [tensor(1), tensor(2)], {})).not.toBeInstanceOf(Tracer);
        return trace.seen;
      },
    );
    expect(seen).toEqual(["mul:[2]"]);
    expect(currentTrace()).toBeUndefined();
  });

  it("levels: the higher-level trace interprets, lower-level values enter as its constants", () => {
    withTrace(
      (l) => new RecordingTrace(l),
      (outer) => {
        const a = new RecordingTracer(outer, tensor(2));
        withTrace(
          (l) => new RecordingTrace(l),
          (inner) => {
            expect(inner.level).toBe(2);
            const b = new RecordingTracer(inner, tensor(3));
            expect(findTopTrace("mul", [a, b])).toBe(inner);
            const raised = raiseAll(inner, [a, b, tensor(1)]);
            expect(raised.map((t) => t.trace)).toEqual([inner, inner, inner]);
            expect((raised[0] as RecordingTracer).value).toBe(a); // the outer tracer is the inner constant's value
            bind("mul", [a, b], {});
            expect(inner.seen).toEqual(["mul:[]"]);
          },
        );
        expect(outer.seen).toEqual(["mul:[]"]); // the inner rule bound mul on outer values
      },
    );
  });

  it("a trace is inactive after withTrace returns, even when the body throws", () => {
    let saved: RecordingTrace | undefined;
    expect(() =>
      withTrace(
        (l) => (saved = new RecordingTrace(l)),
        () => {
          throw new Error("boom");
        },
      ),
    ).toThrow("boom");
    expect(saved!.active).toBe(false);
    expect(currentTrace()).toBeUndefined();
    expectError(
      () =>
        withTrace(
          (l) => new RecordingTrace(l + 1),
          () => 0,
        ),
      ChainruleError,
      "internal: trace created at level 2, expected 1",
    );
  });

  it("shape/dtype checks run before any trace sees a primitive", () => {
    withTrace(
      (l) => new RecordingTrace(l),
      (trace) => {
        const x = new RecordingTracer(trace, tensor([1, 2]));
        expectError(() => bind("add", [x, tensor([1, 2, 3])], {}), ShapeError, "add: expected broadcastable shapes, got [2] and [3]");
        expect(trace.seen).toEqual([]);
      },
    );
    expectError(() => inferAval("add", [{ shape: [], dtype: "float64" }], {}), ChainruleError, "internal: add takes 2 operands, got 1");
  });
});

describe("primitives table", () => {
  it("lists every primitive once, with an arity", () => {
    expect(new Set(PRIMITIVES).size).toBe(PRIMITIVES.length);
    expect(PRIMITIVES).toContain("stopGradient");
    expect(PRIMITIVES).toEqual(Object.keys(ARITY));
    expect(ARITY.concat).toBe("variadic");
    expect(isPrimitive("add")).toBe(true);
    expect(isPrimitive("toString")).toBe(false);
    expect(isPrimitive("__proto__")).toBe(false);
    expect(isPrimitive(3)).toBe(false);
  });
});

describe("shapes and dtypes", () => {
  it("broadcastShapes, sizeOf, shapesEqual, formatShape", () => {
    expect(broadcastShapes("op", [2, 1], [3])).toEqual([2, 3]);
    expect(broadcastShapes("op", [], [0])).toEqual([0]);
    expect(broadcastShapes("op", [1, 0], [5, 1])).toEqual([5, 0]);
    expectError(() => broadcastShapes("op", [2], [0]), ShapeError, "op: expected broadcastable shapes, got [2] and [0]");
    expect(sizeOf([])).toBe(1);
    expect(sizeOf([2, 0, 3])).toBe(0);
    expect(shapesEqual([1, 2], [1, 2])).toBe(true);
    expect(shapesEqual([1, 2], [2, 1])).toBe(false);
    expect(formatShape([])).toBe("[]");
  });

  it("normalizeAxis / normalizeAxes / broadcastedAxes", () => {
    expect(normalizeAxis("op", -1, 3)).toBe(2);
    expect(normalizeAxes("op", undefined, 2)).toEqual([0, 1]);
    expect(normalizeAxes("op", [-1, 0], 3)).toEqual([0, 2]);
    expectError(() => normalizeAxes("op", [0, 0], 2), ArgumentError, "op: expected distinct axes, got [0,0]");
    expect(broadcastedAxes([3, 1], [2, 3, 4])).toEqual({ axes: [0, 2], kept: [3, 1] });
    expect(broadcastedAxes([1], [1])).toEqual({ axes: [], kept: [1] });
  });

  it("dtype helpers", () => {
    expect(DTYPES).toEqual(["float64", "float32", "int32", "bool"]);
    expect(promoteTypes("int32", "float32")).toBe("float32");
    expect(promoteTypes("bool", "int32")).toBe("int32");
    expect(promoteTypes("float64", "float32")).toBe("float64");
    expect([isFloat("float32"), isFloat("int32")]).toEqual([true, false]);
    expect([isFloatTensor(zeros([1])), isFloatTensor(zeros([1], "bool"))]).toEqual([true, false]);
  });
});

describe("errors", () => {
  it("named classes with stable codes", () => {
    const cases: [Error, string, string][] = [
      [new ShapeError("m"), "ShapeError", "SHAPE"],
      [new DTypeError("m"), "DTypeError", "DTYPE"],
      [new ArgumentError("m"), "ArgumentError", "ARGUMENT"],
      [new ArgumentError("m", "AXIS"), "ArgumentError", "AXIS"],
      [new ConcretizationError("m"), "ConcretizationError", "CONCRETIZATION"],
      [new GraphError("m"), "GraphError", "GRAPH"],
      [new NanError("m"), "NanError", "NAN"],
    ];
    for (const [error, name, code] of cases) {
      expect(error).toBeInstanceOf(ChainruleError);
      expect(error).toBeInstanceOf(Error);
      expect(error.name).toBe(name);
      expect((error as ChainruleError).code).toBe(code);
    }
  });

  it("describeValue keeps messages short", () => {
    expect(describeValue("a".repeat(30))).toBe(`string "${"a".repeat(20)}…"`);
    expect(describeValue(Symbol("s"))).toBe("symbol");
    expect(describeValue(tensor([1]))).toBe("Tensor f64[1]");
  });
});

describe("NaN debugging (config.ts)", () => {
  it("withDebugNans switches the flag on and restores it, even on throw", () => {
    expect(config.debugNans).toBe(false);
    expect(withDebugNans(() => config.debugNans)).toBe(true);
    expect(() =>
      withDebugNans(() => {
        throw new Error("x");
      }),
    ).toThrow("x");
    expect(config.debugNans).toBe(false);
  });

  it("checkNans throws NanError only for a NaN made from non-NaN inputs", () => {
    const x = tensor([-1, 1]);
    expectError(() => checkNans("reverse: log", [x], log(x)), NanError, "reverse: log produced NaN from non-NaN inputs (shapes [2] → [2])");
    expect(() => checkNans("log", [tensor([NaN])], tensor([NaN]))).not.toThrow();
    expect(() => checkNans("log", [x], tensor([0, 1]))).not.toThrow();
  });
});

describe("base classes every engine subclasses (V8 object shapes)", () => {
  it("Tensor and Trace create their fields by assignment in the constructor, not as class fields", () => {
    // a class field is defined at one site for every subclass; with five or more Tracer/Trace
    // classes alive (forward, reverse and the jit's in one process) V8 sends that megamorphic define
    // to the runtime on every construction, which made W1 about 4× slower than with one engine
    const field = /^\s*(?:dtype|shape|storage|level|active)\s*[;=]/m;
    expect(Tensor.toString()).toMatch(/this\.dtype = dtype/);
    expect(Tensor.toString()).not.toMatch(field);
    expect(Trace.toString()).not.toMatch(field);
    class WithField {
      level = 1;
    }
    expect(WithField.toString()).toMatch(field);
  });
});
