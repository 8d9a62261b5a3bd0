/**
 * Validation of optimizer state — passed to `update`/`step`, resumed by `minimize`, or loaded by a
 * stateful optimizer's `loadStateDict` — as strictly as ir's `parseGraph` validates graphs: every
 * field, type, length and sign, with the path of the first bad value in the message
 * (`adam.update: expected state.slots.v[1][3] to be a finite number ≥ 0, got -2`).
 *
 * One mechanism for every optimizer: each declares the schema of its state (built for the sizes
 * of the params it updates) and registers it on the optimizer object; `checkValue` walks a schema.
 */
import { ArgumentError } from "@chainrule/ir";

/** finite: any finite number; nonNegative: finite ≥ 0; count: an integer ≥ 0 (safe). */
export type NumberRule = "finite" | "nonNegative" | "count";

export type Schema =
  | { readonly kind: "number"; readonly rule: NumberRule }
  | { readonly kind: "literal"; readonly value: string; readonly why: string }
  | { readonly kind: "nullable"; readonly inner: Schema }
  | {
      readonly kind: "array";
      readonly items: Schema;
      /** Exact length, or at most `max`; `why` explains the bound in messages ("the size of params.w"). */
      readonly length?: number;
      readonly max?: number;
      readonly why?: string;
    }
  /** An array with one schema per element (a buffer per param leaf, each of its leaf's size). */
  | { readonly kind: "tuple"; readonly items: readonly Schema[]; readonly why: string }
  | {
      readonly kind: "object";
      readonly fields: Readonly<Record<string, Schema>>;
      /** Other fields allowed (a state of an optimizer this package does not know). */
      readonly open?: boolean;
      /** Appended to the message about a missing or extra field. */
      readonly hint?: string;
    };

const RULES: Record<NumberRule, { what: string; ok: (v: number) => boolean }> = {
  finite: { what: "a finite number", ok: (v) => Number.isFinite(v) },
  nonNegative: { what: "a finite number ≥ 0", ok: (v) => Number.isFinite(v) && v >= 0 },
  count: { what: "an integer ≥ 0", ok: (v) => Number.isSafeInteger(v) && v >= 0 },
};

export const num = (rule: NumberRule): Schema => ({ kind: "number", rule });
export const literal = (value: string, why: string): Schema => ({ kind: "literal", value, why });
export const nullable = (inner: Schema): Schema => ({ kind: "nullable", inner });
export const object = (fields: Record<string, Schema>, hint?: string): Schema => ({
  kind: "object",
  fields,
  ...(hint === undefined ? {} : { hint }),
});
export const tuple = (items: readonly Schema[], why: string): Schema => ({ kind: "tuple", items, why });
export const array = (items: Schema, bound: { length?: number; max?: number; why?: string } = {}): Schema => ({
  kind: "array",
  items,
  ...bound,
});

/** A short, safe rendering of any value (never recurses): numbers as written, so NaN stays NaN. */
export function show(value: unknown): string {
  if (value === undefined) return "nothing";
  if (value === null || typeof value === "boolean") return String(value);
  if (typeof value === "number") return Object.is(value, -0) ? "-0" : String(value);
  if (typeof value === "string") return JSON.stringify(value.length > 30 ? `${value.slice(0, 30)}…` : value);
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === "object") return isPlainObject(value) ? "an object" : `an object (${Object.prototype.toString.call(value)})`;
  return `a ${typeof value}`;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describe(schema: Schema): string {
  switch (schema.kind) {
    case "number":
      return RULES[schema.rule].what;
    case "literal":
      return `${JSON.stringify(schema.value)} (${schema.why})`;
    case "nullable":
      return `null or ${describe(schema.inner)}`;
    case "array": {
      const bound =
        schema.length !== undefined ? ` of length ${schema.length}` : schema.max !== undefined ? ` of at most ${schema.max} entries` : "";
      return `an array${bound}${schema.why === undefined ? "" : ` (${schema.why})`}`;
    }
    case "tuple":
      return `an array of length ${schema.items.length} (${schema.why})`;
    case "object":
      return "an object";
  }
}

const OTHER_PARAMS = " — was the state made for other params or options?";

/** Throws `ArgumentError` at the first value of `value` (at `path`) that does not fit `schema`. */
export function checkValue(op: string, schema: Schema, value: unknown, path: string): void {
  const fail = (at: string, expected: string, got: unknown, hint = ""): never => {
    throw new ArgumentError(`${op}: expected ${at} to be ${expected}, got ${show(got)}${hint}`);
  };
  /** `orNull`: the value may also be null (a nullable field), which the message then says. */
  const walk = (s: Schema, v: unknown, at: string, orNull = false): void => {
    const expected = (orNull ? "null or " : "") + describe(s);
    switch (s.kind) {
      case "number":
        if (typeof v !== "number" || !RULES[s.rule].ok(v)) fail(at, expected, v);
        return;
      case "literal":
        if (v !== s.value) fail(at, expected, v);
        return;
      case "nullable":
        if (v !== null) walk(s.inner, v, at, true);
        return;
      case "array": {
        if (!Array.isArray(v)) return fail(at, expected, v);
        const tooLong = s.max !== undefined && v.length > s.max;
        if ((s.length !== undefined && v.length !== s.length) || tooLong) fail(at, expected, v, OTHER_PARAMS);
        if (s.items.kind === "number") {
          // the hot path (buffers as long as the params): no call per element
          const rule = RULES[s.items.rule];
          for (let k = 0; k < v.length; k++) {
            const x: unknown = v[k];
            if (typeof x !== "number" || !rule.ok(x)) fail(`${at}[${k}]`, rule.what, x);
          }
          return;
        }
        for (let k = 0; k < v.length; k++) walk(s.items, v[k], `${at}[${k}]`);
        return;
      }
      case "tuple":
        if (!Array.isArray(v)) return fail(at, expected, v);
        if (v.length !== s.items.length) fail(at, expected, v, OTHER_PARAMS);
        s.items.forEach((item, k) => walk(item, v[k], `${at}[${k}]`));
        return;
      case "object": {
        if (!isPlainObject(v)) return fail(at, expected, v);
        const hint = s.hint === undefined ? "" : ` — ${s.hint}`;
        for (const [key, field] of Object.entries(s.fields)) {
          if (!Object.hasOwn(v, key)) fail(`${at}.${key}`, describe(field), undefined, hint);
          walk(field, v[key], `${at}.${key}`);
        }
        if (s.open !== true) {
          const extra = Object.keys(v).find((key) => !Object.hasOwn(s.fields, key));
          if (extra !== undefined) {
            const names = Object.keys(s.fields).join(", ");
            throw new ArgumentError(
              `${op}: expected ${at} to have only the fields ${names}, got an extra field ${JSON.stringify(extra)}${hint}`,
            );
          }
        }
        return;
      }
    }
  };
  walk(schema, value, path);
}

// ── the registry: optimizer object → schema of its state ──────────────────────────────────────

/** A param leaf as the schema sees it: where it is and how many elements it has. */
export interface LeafSize {
  readonly path: string;
  readonly size: number;
}

/** Throws `ArgumentError` unless `state` (at `path`) is a state of this optimizer for params with these leaves. */
export type StateCheck = (op: string, state: unknown, leaves: readonly LeafSize[], path: string) => void;

const checks = new WeakMap<object, StateCheck>();

/** Declares how to check the state of `optimizer` (every optimizer of this package registers one). */
export function registerStateCheck<T extends object>(check: StateCheck, optimizer: T): T {
  checks.set(optimizer, check);
  return optimizer;
}

/** `wrapper` has the state of `inner` (e.g. `withClipping`). */
export function shareStateCheck<T extends object>(inner: object, wrapper: T): T {
  const check = checks.get(inner);
  if (check !== undefined) checks.set(wrapper, check);
  return wrapper;
}

/** What every state has: its optimizer's name and an update count (other fields unchecked). */
export function baseStateFields(name: string): Record<string, Schema> {
  return { optimizer: literal(name, `a state from ${name}(…).init or a saved one`), step: num("count") };
}

/**
 * Checks `state` against what `optimizer` registered; for an optimizer implemented outside this
 * package, only the fields every state has (other fields are its own business).
 */
export function checkOptimizerState(
  op: string,
  optimizer: { readonly name: string },
  state: unknown,
  leaves: readonly LeafSize[],
  path = "state",
): void {
  const check = checks.get(optimizer);
  if (check !== undefined) check(op, state, leaves, path);
  else checkValue(op, { kind: "object", fields: baseStateFields(optimizer.name), open: true }, state, path);
}
