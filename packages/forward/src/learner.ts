/**
 * A forward pass for learners: every intermediate value with the op that made it, its value and
 * its tangent(s), in the order they were computed — the seed's table for (x + y)(x − y).
 */
import { ArgumentError, describeValue, flatten, scalar, Tensor, Tracer, withTrace, type NestedArray } from "@chainrule/ir";
import { DualTrace, DualTracer } from "./dual.js";

/** One row of the table. */
export interface ForwardStep {
  /** `x`, `y` for inputs (or the names given), then `a`, `b`, … for intermediates. */
  readonly name: string;
  /** `input`, `constant`, or the primitive (`add`, `mul`, …) / `customJvp` / `customVjp`. */
  readonly op: string;
  /** Names of the operands. */
  readonly inputs: readonly string[];
  /** The value (a number for scalars, nested arrays otherwise). */
  readonly value: NestedArray;
  /** The tangent along the (first) direction. */
  readonly tangent: NestedArray;
  /** The tangent along each direction. */
  readonly tangents: readonly NestedArray[];
}

export interface ForwardTrace {
  readonly steps: readonly ForwardStep[];
  /** Name of the step holding f's result. */
  readonly output: string;
  readonly value: NestedArray;
  readonly tangent: NestedArray;
  readonly tangents: readonly NestedArray[];
}

/**
 * Which direction(s) to differentiate along: an argument index (that argument, a scalar, gets
 * tangent 1 and the others 0), several indices (one direction each), or explicit tangents
 * `{ tangents: [...] }` shaped like the arguments.
 */
export type Direction = number | readonly number[] | { readonly tangents: readonly unknown[] };

export interface TraceOptions {
  /** Names of the arguments (default x, y, z, then x3, x4, …). */
  readonly names?: readonly string[];
}

const INTERMEDIATE = "abcdefghijklmnopqrstuvw";

function plain(t: Tensor): NestedArray {
  const c = t instanceof Tracer ? t.concrete() : t;
  return c.toArray();
}

function toTensor(op: string, value: unknown, path: string): Tensor {
  if (typeof value === "number") return scalar(value);
  if (value instanceof Tensor) return value;
  throw new ArgumentError(`${op}: expected numbers or Tensors as arguments, got ${describeValue(value)} at ${path}`);
}

/**
 * Runs `f(...args)` in forward mode and records every operation. `f` takes numbers or Tensors
 * (no nested pytrees) and returns one Tensor.
 */
export function traceForward(
  f: (...args: never[]) => unknown,
  args: readonly unknown[],
  direction: Direction,
  options: TraceOptions = {},
): ForwardTrace {
  const op = "traceForward";
  if (typeof f !== "function") throw new ArgumentError(`${op}: expected a function, got ${describeValue(f)}`);
  if (!Array.isArray(args)) throw new ArgumentError(`${op}: expected args as an array, got ${describeValue(args)}`);
  const primals = args.map((a, i) => toTensor(op, a, `args[${i}]`));
  // directions[j][i]: tangent of argument i along direction j
  let directions: Tensor[][];
  if (typeof direction === "number" || Array.isArray(direction)) {
    const indices = (typeof direction === "number" ? [direction] : direction) as number[];
    directions = indices.map((index) => {
      if (!Number.isInteger(index) || index < 0 || index >= primals.length) {
        throw new ArgumentError(`${op}: expected a direction index in [0, ${primals.length - 1}], got ${describeValue(index)}`);
      }
      if (primals[index]!.size !== 1) {
        throw new ArgumentError(
          `${op}: expected argument ${index} to be a scalar to use it as a direction, got ${primals[index]!.describe()}; ` +
            "pass { tangents } instead",
        );
      }
      return primals.map((p, i) => {
        const t = new Tensor(p.dtype, p.shape, new (p.dtype === "float32" ? Float32Array : Float64Array)(p.size));
        if (i === index) t.data[0] = 1;
        return t;
      });
    });
  } else if (direction !== null && typeof direction === "object" && Array.isArray((direction as { tangents?: unknown }).tangents)) {
    const given = flatten((direction as { tangents: unknown[] }).tangents, op, "tangents").leaves;
    if (given.length !== primals.length) {
      throw new ArgumentError(`${op}: expected ${primals.length} tangents (one per argument), got ${given.length}`);
    }
    directions = [given.map((t, i) => toTensor(op, t, `tangents[${i}]`))];
  } else {
    throw new ArgumentError(`${op}: expected a direction (an argument index, indices, or { tangents }), got ${describeValue(direction)}`);
  }
  const k = directions.length;
  if (k === 0) throw new ArgumentError(`${op}: expected at least one direction, got none`);
  const argNames = primals.map((_, i) => options.names?.[i] ?? (i < 3 ? "xyz"[i]! : `x${i}`));

  const steps: ForwardStep[] = [];
  const names = new Map<Tensor, string>();
  let counter = 0;
  const freshName = () => {
    const i = counter++;
    return i < INTERMEDIATE.length ? INTERMEDIATE[i]! : `v${i}`;
  };
  const record = (name: string, opName: string, inputs: string[], t: DualTracer) => {
    const tangents: NestedArray[] = [];
    for (let j = 0; j < k; j++) {
      if (t.tangent === null) tangents.push(plain(new Tensor(t.dtype, t.shape, new Float64Array(t.size))));
      else {
        const data = (t.tangent instanceof Tracer ? t.tangent.concrete() : t.tangent).data;
        const slice = data.slice(j * t.size, (j + 1) * t.size);
        tangents.push(new Tensor(t.dtype, t.shape, slice).toArray());
      }
    }
    names.set(t, name);
    steps.push({ name, op: opName, inputs, value: plain(t.primal), tangent: tangents[0]!, tangents });
  };

  const outputName = withTrace(
    (level) => new DualTrace(level, k),
    (trace) => {
      const inputs = primals.map((p, i) => {
        const stacked = new Tensor(p.dtype, [k, ...p.shape], new (p.dtype === "float32" ? Float32Array : Float64Array)(k * p.size));
        for (let j = 0; j < k; j++) stacked.data.set(directions[j]![i]!.data, j * p.size);
        const x = new DualTracer(trace, p, stacked);
        record(argNames[i]!, "input", [], x);
        return x;
      });
      trace.recorder = (opName, operands, output) => {
        const inputNames = operands.map((x) => {
          let name = names.get(x);
          if (name === undefined) {
            name = `c${counter++}`;
            record(name, "constant", [], x);
          }
          return name;
        });
        record(freshName(), opName, inputNames, output);
      };
      const out = (f as (...a: unknown[]) => unknown)(...inputs);
      trace.recorder = undefined;
      if (!(out instanceof Tensor)) throw new ArgumentError(`${op}: expected f to return a Tensor, got ${describeValue(out)}`);
      if (out instanceof DualTracer && out.trace === trace) return names.get(out)!;
      const constant = trace.constant(out);
      const name = `c${counter++}`;
      record(name, "constant", [], constant);
      return name;
    },
  );
  const last = steps.find((s) => s.name === outputName)!;
  return { steps, output: outputName, value: last.value, tangent: last.tangent, tangents: last.tangents };
}

function cell(value: NestedArray): string {
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(6)));
  return JSON.stringify(value);
}

/** The trace as a text table: name = op(inputs), value, tangent — the seed's forward-pass table. */
export function formatForwardTrace(trace: ForwardTrace): string {
  const rows = trace.steps.map((s) => [
    s.name,
    s.op === "input" || s.op === "constant" ? s.op : `${s.op}(${s.inputs.join(", ")})`,
    cell(s.value),
    s.tangents.map(cell).join(", "),
  ]);
  const header = ["name", "op", "value", "tangent"];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]) =>
    r
      .map((v, c) => v.padEnd(widths[c]!))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}
