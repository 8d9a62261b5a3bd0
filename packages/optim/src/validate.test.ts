/**
 * Optimizer state is validated as strictly as ir's parseGraph validates graphs — every field, type,
 * length and sign, the path of the first bad value in the message — by one mechanism shared by every
 * optimizer, by the stateful classes' loadStateDict and by minimize's resumed state.
 */
import { isDeepStrictEqual } from "node:util";
import { fc } from "@fast-check/vitest";
import { ArgumentError, ChainruleError, tensor, type Tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import {
  Adagrad,
  adagrad,
  Adam,
  adam,
  AdamW,
  adamw,
  LBFGS,
  lbfgs,
  minimize,
  RMSprop,
  rmsprop,
  SGD,
  sgd,
  withClipping,
  type Optimizer,
  type OptimizerState,
  type ParameterLike,
  type StatefulOptimizer,
} from "./index.js";

type Params = { w: Tensor; b: number; h: Tensor };
const params = (): Params => ({ w: tensor([0.5, -1, 2]), b: 0.3, h: tensor([0.25, -1], { dtype: "float32" }) });
/** The gradient of Σ (x − 1)² over every element. */
const gradient = (p: Params): Params => ({
  w: tensor(Array.from(p.w.data, (v) => 2 * (v - 1))),
  b: 2 * (p.b - 1),
  h: tensor(
    Array.from(p.h.data, (v) => 2 * (v - 1)),
    { dtype: "float32" },
  ),
});

/** A state after `steps` updates, as plain JSON data (what a user loads from disk). */
function trainedState(opt: Optimizer<OptimizerState>, steps = 3): Record<string, unknown> {
  let p = params();
  let s = opt.init(p);
  for (let k = 0; k < steps; k++) ({ params: p, state: s } = opt.update(gradient(p), s, p));
  return JSON.parse(JSON.stringify(s)) as Record<string, unknown>;
}

function set(root: unknown, path: readonly (string | number)[], value: unknown): void {
  let node = root as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  node[path[path.length - 1]!] = value;
}

const update = (opt: Optimizer<OptimizerState>, state: unknown) => () => {
  const p = params();
  return opt.update(gradient(p), state as OptimizerState, p);
};

describe("corrupted state is rejected with the path of the first bad value", () => {
  it("adam: negative, null or string second moments (they used to give NaN params)", () => {
    const opt = adam();
    const bad = trainedState(opt);
    set(bad, ["slots", "v", 0, 2], -2);
    expect(update(opt, bad)).toThrow(ArgumentError);
    expect(update(opt, bad)).toThrow("adam.update: expected state.slots.v[0][2] to be a finite number ≥ 0, got -2");
    set(bad, ["slots", "v", 0, 2], null);
    expect(update(opt, bad)).toThrow("adam.update: expected state.slots.v[0][2] to be a finite number ≥ 0, got null");
    set(bad, ["slots", "v", 0, 2], "0.5");
    expect(update(opt, bad)).toThrow('adam.update: expected state.slots.v[0][2] to be a finite number ≥ 0, got "0.5"');
    const m = trainedState(opt);
    set(m, ["slots", "m", 2, 1], Number.NaN);
    expect(update(opt, m)).toThrow("adam.update: expected state.slots.m[2][1] to be a finite number, got NaN");
  });

  it("each optimizer checks its own buffers' signs and lengths, and the step count", () => {
    const cases: [Optimizer<OptimizerState>, (string | number)[], unknown, string][] = [
      [
        sgd({ lr: 0.1 }),
        ["slots", "momentum"],
        [[0, 0, 0], [0], [0, 0]],
        'sgd.update: expected state.slots to have only the fields , got an extra field "momentum"',
      ],
      [
        sgd({ lr: 0.1, momentum: 0.9 }),
        ["slots", "momentum", 1],
        [0, 0],
        "sgd.update: expected state.slots.momentum[1] to be an array of length 1 (the size of params.b)",
      ],
      [
        adam({ amsgrad: true }),
        ["slots", "vMax", 2, 0],
        -1e-300,
        "adam.update: expected state.slots.vMax[2][0] to be a finite number ≥ 0, got -1e-300",
      ],
      [adamw(), ["step"], 1.5, "adamw.update: expected state.step to be an integer ≥ 0, got 1.5"],
      [adamw(), ["step"], -1, "adamw.update: expected state.step to be an integer ≥ 0, got -1"],
      [
        rmsprop({ centered: true }),
        ["slots", "squareAvg", 0, 0],
        -0.5,
        "rmsprop.update: expected state.slots.squareAvg[0][0] to be a finite number ≥ 0",
      ],
      [
        rmsprop({ centered: true }),
        ["slots", "gradAvg", 0],
        "x",
        'rmsprop.update: expected state.slots.gradAvg[0] to be an array of length 3 (the size of params.w), got "x"',
      ],
      [
        adagrad(),
        ["slots", "sum", 1, 0],
        Number.POSITIVE_INFINITY,
        "adagrad.update: expected state.slots.sum[1][0] to be a finite number ≥ 0, got Infinity",
      ],
      [adagrad(), ["slots"], undefined, "adagrad.update: expected state.slots to be an object, got nothing"],
      [
        adagrad(),
        ["extra"],
        1,
        'adagrad.update: expected state to have only the fields optimizer, step, slots, got an extra field "extra"',
      ],
    ];
    for (const [opt, path, value, message] of cases) {
      const bad = trainedState(opt);
      if (value === undefined) delete (bad as Record<string, unknown>)[path[0] as string];
      else set(bad, path, value);
      expect(update(opt, bad), message).toThrow(ArgumentError);
      expect(update(opt, bad)).toThrow(message);
    }
  });

  it("lbfgs: missing fields, bad history and other params are ArgumentErrors, not TypeErrors", () => {
    const opt = lbfgs({ lr: 0.1, historySize: 3 });
    const missing = trainedState(opt);
    delete missing["oldDirs"];
    expect(update(opt, missing)).toThrow(ArgumentError);
    expect(update(opt, missing)).toThrow(
      "lbfgs.update: expected state.oldDirs to be an array of at most 3 entries (historySize), got nothing",
    );
    const unpaired = trainedState(opt);
    (unpaired["ro"] as number[]).push(1);
    expect(update(opt, unpaired)).toThrow(
      /expected state.oldDirs, state.oldSteps and state.ro of one length \(curvature pairs\), got lengths 2, 2 and 3/,
    );
    const short = trainedState(opt);
    set(short, ["prevGrad"], [1, 2]);
    expect(update(opt, short)).toThrow(
      "lbfgs.update: expected state.prevGrad to be null or an array of length 6 (the number of param elements), got an array of length 2" +
        " — was the state made for other params or options?",
    );
    const negative = trainedState(opt);
    set(negative, ["hDiag"], -1);
    expect(update(opt, negative)).toThrow("lbfgs.update: expected state.hDiag to be a finite number ≥ 0, got -1");
    const long = trainedState(lbfgs({ lr: 0.1, historySize: 5 }), 6);
    expect(update(opt, long)).toThrow(
      /expected state.oldDirs to be an array of at most 3 entries \(historySize\), got an array of length [45]/,
    );
  });

  it("a state of another optimizer says which optimizer it is from, grammatically", () => {
    const state = trainedState(sgd({ lr: 0.1 }));
    expect(update(adam(), state)).toThrow(
      'adam.update: expected state.optimizer to be "adam" (a state from adam(…).init or a saved one), got "sgd"',
    );
    expect(update(adam(), 5)).toThrow("adam.update: expected state to be an object, got 5");
    // a state with the right name but a bad step names the step, not the optimizer
    const sameName = trainedState(adam());
    set(sameName, ["step"], "3");
    expect(update(adam(), sameName)).toThrow('adam.update: expected state.step to be an integer ≥ 0, got "3"');
  });

  it("amsgrad or momentum state loaded without it (and the reverse) is an error naming the buffer", () => {
    const withVMax = trainedState(adam({ amsgrad: true }));
    expect(update(adam(), withVMax)).toThrow(
      'adam.update: expected state.slots to have only the fields m, v, got an extra field "vMax"' +
        " — was the state made by adam with other options?",
    );
    expect(update(adam({ amsgrad: true }), trainedState(adam()))).toThrow(
      "adam.update: expected state.slots.vMax to be an array of length 3 (one buffer per param leaf), got nothing" +
        " — was the state made by adam with other options?",
    );
  });

  it("withClipping checks the state as its inner optimizer does", () => {
    const opt = withClipping(adam(), { maxNorm: 1 });
    const bad = trainedState(opt);
    set(bad, ["slots", "v", 1, 0], -3);
    expect(() => opt.step((p: Params) => ({ loss: 0, grads: gradient(p) }), bad as never, params())).toThrow(
      "adam.update: expected state.slots.v[1][0] to be a finite number ≥ 0, got -3",
    );
  });

  it("minimize checks a resumed state before any work", () => {
    const bad = trainedState(adam());
    set(bad, ["slots", "m", 0], [1, 2]);
    let calls = 0;
    const engine = {
      valueAndGrad: () => () => {
        calls++;
        return [0, gradient(params())];
      },
    };
    expect(() => minimize(() => 0, params(), { engine: engine as never, optimizer: adam(), steps: 0, state: bad as never })).toThrow(
      "minimize: expected options.state.slots.m[0] to be an array of length 3 (the size of params.w), got an array of length 2",
    );
    expect(calls).toBe(0);
  });
});

describe("valid states never give non-finite params", () => {
  it("centered rmsprop: ṽ = v − ḡ² < 0 (rounding, or a resumed state) is clamped to 0, not a NaN param", () => {
    const opt = rmsprop({ centered: true, lr: 0.01 });
    const state = trainedState(opt);
    set(state, ["slots", "gradAvg", 0], [10, 10, 10]);
    set(state, ["slots", "squareAvg", 0], [0, 0, 0]);
    const next = update(opt, state)().params as Params;
    expect(Array.from(next.w.data).every(Number.isFinite)).toBe(true);
  });
  it("an update that overflows the params is a NanError naming the leaf, not ±Infinity params", () => {
    const opt = sgd({ lr: 1e300 });
    expect(() => opt.update({ w: tensor([0, 1e10]) }, opt.init({ w: tensor([0, 0]) }), { w: tensor([0, 0]) })).toThrow(
      "sgd.update: expected the update to keep the params finite, got -Infinity at params.w (element 1) — lr or gradients too large?",
    );
    const f32 = sgd({ lr: 1 });
    const p32 = { h: tensor([3e38], { dtype: "float32" }) };
    expect(() => f32.update({ h: tensor([-1e38], { dtype: "float32" }) }, f32.init(p32), p32)).toThrow(
      /sgd.update: expected the update to keep the params finite, got Infinity at params.h \(element 0\)/,
    );
    const lb = lbfgs({ lr: 1e308 });
    const first = lb.update([1], lb.init([0]), [0]); // x = −1e308
    expect(() => lb.update([2], first.state, first.params)).toThrow(
      /lbfgs.update: expected the update to keep the params finite, got -?Infinity at params\[0\]/,
    );
  });
});

// ── stateful optimizers: loadStateDict validates as update does ───────────────────────────────

const statefulParams = (): ParameterLike[] => [
  { value: tensor([0.5, -1, 2]), grad: null },
  { value: 0.3, grad: null },
];
function statefulStep(o: StatefulOptimizer): void {
  const grads = (): void => {
    for (const p of o.params) p.grad = typeof p.value === "number" ? 2 * p.value : tensor(Array.from(p.value.data, (v) => 2 * v));
  };
  grads();
  if (o instanceof LBFGS) o.step(() => (grads(), 1));
  else o.step();
}

describe("loadStateDict rejects corrupted state with the path in the dict", () => {
  const cases: [string, (ps: ParameterLike[]) => StatefulOptimizer, (string | number)[], unknown, string][] = [
    [
      "SGD",
      (ps) => new SGD(ps, { lr: 0.1, momentum: 0.5 }),
      ["state", "slots", "momentum", 1, 0],
      "1",
      'expected dict.state.slots.momentum[1][0] to be a finite number, got "1"',
    ],
    [
      "Adam",
      (ps) => new Adam(ps),
      ["state", "slots", "v", 0, 1],
      -2,
      "expected dict.state.slots.v[0][1] to be a finite number ≥ 0, got -2",
    ],
    ["AdamW", (ps) => new AdamW(ps), ["state", "step"], Number.NaN, "expected dict.state.step to be an integer ≥ 0, got NaN"],
    [
      "RMSprop",
      (ps) => new RMSprop(ps),
      ["state", "slots", "squareAvg", 1],
      [],
      "expected dict.state.slots.squareAvg[1] to be an array of length 1 (the size of params[1])",
    ],
    [
      "Adagrad",
      (ps) => new Adagrad(ps),
      ["state", "optimizer"],
      "adam",
      'expected dict.state.optimizer to be "adagrad" (a state from adagrad(…).init or a saved one), got "adam"',
    ],
    [
      "LBFGS",
      (ps) => new LBFGS(ps, { historySize: 4 }),
      ["state", "evaluations"],
      null,
      "expected dict.state.evaluations to be an integer ≥ 0, got null",
    ],
    ["LBFGS", (ps) => new LBFGS(ps), ["extra"], 1, 'expected dict to have only the fields optimizer, state, got an extra field "extra"'],
  ];
  for (const [label, make, path, value, message] of cases) {
    it(`${label}: ${path.join(".")}`, () => {
      const source = make(statefulParams());
      statefulStep(source);
      const dict = JSON.parse(JSON.stringify(source.stateDict())) as Record<string, unknown>;
      set(dict, path, value);
      const target = make(statefulParams());
      expect(() => target.loadStateDict(dict as never)).toThrow(ArgumentError);
      expect(() => target.loadStateDict(dict as never)).toThrow(`${label}.loadStateDict: ${message}`);
      expect(target.stepCount).toBe(0); // nothing loaded
    });
  }
  it("a state dict of another optimizer: the name, without 'a adam'", () => {
    const a = new Adam(statefulParams());
    statefulStep(a);
    expect(() => new Adagrad(statefulParams()).loadStateDict(a.stateDict() as never)).toThrow(
      `Adagrad.loadStateDict: expected dict.optimizer to be "adagrad" (a state dict from Adagrad's stateDict()), got "adam"`,
    );
  });
});

// ── the property: every corruption of a valid state is rejected with an ir error ──────────────

type Make = [string, () => Optimizer<OptimizerState>, (ps: ParameterLike[]) => StatefulOptimizer];
const OPTIMIZERS: Make[] = [
  ["sgd", () => sgd({ lr: 0.1 }), (ps) => new SGD(ps, { lr: 0.1 })],
  ["sgd momentum", () => sgd({ lr: 0.1, momentum: 0.9, nesterov: true }), (ps) => new SGD(ps, { lr: 0.1, momentum: 0.9, nesterov: true })],
  ["adam amsgrad", () => adam({ lr: 0.1, amsgrad: true }), (ps) => new Adam(ps, { lr: 0.1, amsgrad: true })],
  ["adamw", () => adamw({ lr: 0.1 }), (ps) => new AdamW(ps, { lr: 0.1 })],
  [
    "rmsprop centered momentum",
    () => rmsprop({ centered: true, momentum: 0.5 }),
    (ps) => new RMSprop(ps, { centered: true, momentum: 0.5 }),
  ],
  ["adagrad", () => adagrad({ initialAccumulatorValue: 0.1 }), (ps) => new Adagrad(ps, { initialAccumulatorValue: 0.1 })],
  ["lbfgs", () => lbfgs({ lr: 0.1, historySize: 3 }), (ps) => new LBFGS(ps, { lr: 0.1, historySize: 3 })],
];
/** Fields whose numbers must be ≥ 0, integers, or may be null, as documented for each state. */
const NON_NEGATIVE = new Set(["step", "iterations", "evaluations", "v", "vMax", "squareAvg", "sum", "stepLength", "ro", "hDiag"]);
const COUNTS = new Set(["step", "iterations", "evaluations"]);
const NULLABLE = new Set(["direction", "prevGrad", "prevLoss"]);

type Path = (string | number)[];
function pathsOf(value: unknown, path: Path = []): Path[] {
  const out: Path[] = [path];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...pathsOf(v, [...path, i])));
  else if (value !== null && typeof value === "object") for (const [k, v] of Object.entries(value)) out.push(...pathsOf(v, [...path, k]));
  return out;
}
const get = (root: unknown, path: Path): unknown => path.reduce((node: any, key) => node?.[key], root);
/** The name of the field a path is in: the last string key (`slots.v[0][2]` is in `v`). */
const fieldOf = (path: Path): string => [...path].reverse().find((k): k is string => typeof k === "string") ?? "";

const GARBAGE: unknown[] = [
  Number.NaN,
  Number.POSITIVE_INFINITY,
  Number.NEGATIVE_INFINITY,
  "1",
  true,
  {},
  [[["x"]]],
  { $tensor: "float64" },
];
const corruption = fc.oneof(
  fc.record({ kind: fc.constant("replace" as const), value: fc.constantFrom(...GARBAGE) }),
  fc.record({ kind: fc.constantFrom("null", "negative", "fraction", "delete", "add", "truncate", "extend") }),
);

describe("property: malformed optimizer state", () => {
  const seed = Number(process.env["FC_SEED"] ?? Math.floor(Math.random() * 2 ** 31));
  const title = "every corruption of a valid state is rejected with an ir error, never TypeError or NaN params";
  it(`${title} (seed ${seed}; FC_SEED=${seed} replays)`, () => {
    const states = OPTIMIZERS.map(([, make]) => trainedState(make(), 4));
    fc.assert(
      fc.property(fc.nat(OPTIMIZERS.length - 1), fc.nat(), corruption, fc.boolean(), (which, pick, c, viaDict) => {
        const [, make, makeStateful] = OPTIMIZERS[which]!;
        const state = structuredClone(states[which]!);
        const paths = pathsOf(state);
        const path = paths[pick % paths.length]!;
        const target = get(state, path);
        const field = fieldOf(path);
        let mustReject = true;
        let root: unknown = state;
        const parent = path.length === 0 ? undefined : get(state, path.slice(0, -1));
        const replace = (value: unknown): void => {
          if (path.length === 0) root = value;
          else set(state, path, value);
        };
        switch (c.kind) {
          case "replace":
            if (isDeepStrictEqual(c.value, target)) return; // `{}` for the empty slots of plain sgd: no corruption
            replace(c.value);
            break;
          case "null":
            replace(null);
            // null fields of lbfgs; a state dict's state is null before the first step
            mustReject = !((path.length === 1 && NULLABLE.has(field)) || (path.length === 0 && viaDict));
            break;
          case "negative":
          case "fraction":
            if (typeof target !== "number") return; // only numbers have a sign or a fraction
            replace(c.kind === "negative" ? -(Math.abs(target) + 1.5) : target + 0.5);
            mustReject = c.kind === "negative" ? NON_NEGATIVE.has(field) : COUNTS.has(field);
            break;
          case "delete":
            if (Array.isArray(parent) || path.length === 0) return;
            delete (parent as Record<string, unknown>)[path[path.length - 1] as string];
            break;
          case "add":
            if (target === null || typeof target !== "object" || Array.isArray(target)) return;
            (target as Record<string, unknown>)["unexpected"] = 0;
            break;
          case "truncate":
          case "extend":
            if (!Array.isArray(target) || (c.kind === "truncate" && target.length === 0)) return;
            if (c.kind === "truncate") target.pop();
            else target.push(0);
            break;
        }
        /** One update from the corrupted state; the updated params' numbers. */
        const run = (): number[] => {
          if (!viaDict) {
            const next = update(make(), root)().params as Params;
            return [...next.w.data, next.b, ...next.h.data];
          }
          const ps = Object.values(params()).map((value): ParameterLike => ({ value, grad: null }));
          const stateful = makeStateful(ps);
          stateful.loadStateDict({ optimizer: stateful.optimizer.name, state: root } as never);
          statefulStep(stateful);
          return ps.flatMap((p) => (typeof p.value === "number" ? [p.value] : Array.from(p.value.data)));
        };
        let error: unknown;
        let values: number[] = [];
        try {
          values = run();
        } catch (e) {
          error = e;
        }
        const where = `${OPTIMIZERS[which]![0]}: ${c.kind} at ${JSON.stringify(path)}${viaDict ? " via loadStateDict" : ""}`;
        if (mustReject) {
          expect(error, `${where}: accepted`).toBeInstanceOf(ChainruleError);
        } else {
          expect(error, `${where}: rejected a valid state`).toBeUndefined();
          expect(values.every(Number.isFinite), `${where}: non-finite params`).toBe(true);
        }
      }),
      { seed, numRuns: 600 },
    );
  });
});
