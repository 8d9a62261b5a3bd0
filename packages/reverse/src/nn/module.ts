/**
 * A small module system in the shape of torch.nn: a `Module` owns `Parameter`s and sub-modules
 * (found on its own properties, in the order they were assigned), `parameters()` lists them for
 * an optimizer, `stateDict()`/`loadStateDict()` save and restore their values by path
 * ("0.weight"). `Linear`, `Sequential` and the activations are enough for an MLP that reads like
 * its PyTorch twin.
 */
import {
  shapesEqual,
  add,
  describeValue,
  formatShape,
  matmul,
  Random,
  relu,
  sigmoid,
  tanh,
  Tensor,
  Tracer,
  transpose,
  type DType,
} from "@chainrule/ir";
import { AutogradError } from "../imperative/errors.js";
import { Parameter } from "../imperative/variable.js";

export abstract class Module {
  /** The computation (torch's forward). */
  abstract forward(input: Tensor): Tensor;

  /** Sub-modules and parameters on own properties, in assignment order, with their names. */
  private children(): [string, Module | Parameter][] {
    const out: [string, Module | Parameter][] = [];
    for (const [key, value] of Object.entries(this)) {
      if (value instanceof Parameter || value instanceof Module) out.push([key, value]);
      else if (Array.isArray(value))
        value.forEach((v, i) => (v instanceof Parameter || v instanceof Module) && out.push([`${key}.${i}`, v]));
    }
    return out;
  }

  /** Every parameter with its path ("0.weight"), in the order they were assigned, each once. */
  namedParameters(prefix = ""): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    const seen = new Set<Parameter>();
    for (const [key, child] of this.children()) {
      const name = prefix === "" ? key : `${prefix}.${key}`;
      const found: [string, Parameter][] = child instanceof Parameter ? [[name, child]] : child.namedParameters(name);
      for (const [path, p] of found) {
        if (seen.has(p)) continue;
        seen.add(p);
        if (p.name === undefined) p.name = path;
        out.push([path, p]);
      }
    }
    return out;
  }

  /** Every parameter (each once), for an optimizer: `new Adam(model.parameters(), { lr })`. */
  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** The parameters' current values by path: a plain object of Tensors (a pytree). */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, p] of this.namedParameters()) out[name] = p.value;
    return out;
  }

  /** Assigns saved values by path; every parameter must be present with its shape and dtype. */
  loadStateDict(state: Readonly<Record<string, Tensor>>): void {
    if (state === null || typeof state !== "object")
      throw new AutogradError(
        "ARGUMENT",
        `loadStateDict: expected an object of tensors by parameter path, got ${state === null ? "null" : typeof state}`,
      );
    const named = this.namedParameters();
    const known = new Set(named.map(([name]) => name));
    const unexpected = Object.keys(state).filter((k) => !known.has(k));
    const missing = named.filter(([name]) => !(name in state)).map(([name]) => name);
    if (unexpected.length > 0 || missing.length > 0) {
      const missingPart = missing.length > 0 ? ` missing ${missing.join(", ")}` : "";
      const unexpectedPart = unexpected.length > 0 ? ` unexpected ${unexpected.join(", ")}` : "";
      throw new AutogradError(
        "ARGUMENT",
        `loadStateDict: expected exactly the keys ${[...known].join(", ")}, got${missingPart}${unexpectedPart}`,
      );
    }
    // check everything before assigning anything
    for (const [name, p] of named) {
      const value = state[name];
      if (!(value instanceof Tensor) || value instanceof Tracer || value.dtype !== p.dtype || !shapesEqual(value.shape, p.shape)) {
        // a tracer or a variable prints as what it is, so equal-looking dtypes and shapes never hide the difference
        const got = value instanceof Tracer ? value.describe() : value instanceof Tensor ? `a ${value.describe()}` : describeValue(value);
        throw new AutogradError(
          "ARGUMENT",
          `loadStateDict: expected ${name} to be a ${p.dtype}${formatShape(p.shape)} concrete tensor, got ${got}`,
        );
      }
    }
    for (const [name, p] of named) p.value = state[name]!;
  }

  /** Forgets every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }
}

// ── initialization ─────────────────────────────────────────────────────────────────────────

let globalRandom = new Random(0);

/** Seeds the generator modules use when given no `rng` (torch.manual_seed). */
export function manualSeed(seed: number): void {
  globalRandom = new Random(seed);
}

/** The generator seeded by `manualSeed` (initialisers and Dropout draw from it when given no `rng`). */
export function defaultRandom(): Random {
  return globalRandom;
}

export interface LinearOptions {
  /** Add a bias (default true). */
  readonly bias?: boolean;
  /** Generator for the initial values (default: the one seeded by `manualSeed`). */
  readonly rng?: Random;
  readonly dtype?: DType;
}

function checkFeatures(op: string, name: string, n: unknown): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < 1)
    throw new AutogradError("ARGUMENT", `${op}: expected ${name} to be an integer ≥ 1, got ${String(n)}`);
  return n;
}

/** The most weights one layer may hold: what one typed array can (2³¹ − 1 elements, ~16 GiB of float64). */
export const MAX_LAYER_WEIGHTS = 2 ** 31 - 1;

const LINEAR_OPTIONS = ["bias", "rng", "dtype"];

function checkLinearOptions(options: unknown): LinearOptions {
  if (options === undefined) return {};
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new AutogradError("ARGUMENT", `Linear: expected an options object, got ${describeValue(options)}`);
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!LINEAR_OPTIONS.includes(key)) {
      throw new AutogradError("ARGUMENT", `Linear: unknown option ${JSON.stringify(key)}; expected only ${LINEAR_OPTIONS.join(", ")}`);
    }
  }
  if (o["bias"] !== undefined && typeof o["bias"] !== "boolean") {
    throw new AutogradError("ARGUMENT", `Linear: expected options.bias to be true or false, got ${describeValue(o["bias"])}`);
  }
  if (o["dtype"] !== undefined && o["dtype"] !== "float64" && o["dtype"] !== "float32") {
    throw new AutogradError("ARGUMENT", `Linear: expected options.dtype "float64" or "float32", got ${describeValue(o["dtype"])}`);
  }
  if (o["rng"] !== undefined && !(o["rng"] instanceof Random)) {
    throw new AutogradError("ARGUMENT", `Linear: expected options.rng to be a Random (new Random(seed)), got ${describeValue(o["rng"])}`);
  }
  return o as LinearOptions;
}

/**
 * y = x·Wᵀ + b, W of shape [out, in] and b of shape [out], both initialized uniformly in
 * ±1/√in (torch.nn.Linear's default initialization).
 */
export class Linear extends Module {
  readonly weight: Parameter;
  readonly bias: Parameter | null;
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(inFeatures: number, outFeatures: number, optionsGiven?: LinearOptions) {
    super();
    this.inFeatures = checkFeatures("Linear", "inFeatures", inFeatures);
    this.outFeatures = checkFeatures("Linear", "outFeatures", outFeatures);
    const options = checkLinearOptions(optionsGiven);
    if (inFeatures * outFeatures > MAX_LAYER_WEIGHTS) {
      throw new AutogradError(
        "ARGUMENT",
        `Linear: expected at most ${MAX_LAYER_WEIGHTS} weights (inFeatures × outFeatures), ` +
          `got ${inFeatures} × ${outFeatures} = ${inFeatures * outFeatures}`,
      );
    }
    const rng = options.rng ?? globalRandom;
    const bound = 1 / Math.sqrt(inFeatures);
    const dtype = options.dtype ?? "float64";
    this.weight = new Parameter(rng.uniform([outFeatures, inFeatures], { low: -bound, high: bound, dtype }));
    this.bias = options.bias === false ? null : new Parameter(rng.uniform([outFeatures], { low: -bound, high: bound, dtype }));
  }

  forward(input: Tensor): Tensor {
    if (!(input instanceof Tensor)) {
      throw new AutogradError(
        "ARGUMENT",
        `Linear.forward: expected a Tensor of shape [..., ${this.inFeatures}], got ${describeValue(input)}`,
      );
    }
    const last = input.shape[input.shape.length - 1];
    if (input.shape.length === 0 || last !== this.inFeatures) {
      throw new AutogradError(
        "ARGUMENT",
        `Linear.forward: expected an input whose last axis has ${this.inFeatures} features, got shape ${formatShape(input.shape)}`,
      );
    }
    const y = matmul(input, transpose(this.weight));
    return this.bias === null ? y : add(y, this.bias);
  }
}

/** Applies its modules in order (torch.nn.Sequential); parameters are named "0.weight", "1.bias", … */
export class Sequential extends Module {
  readonly layers: readonly Module[];

  constructor(...layers: Module[]) {
    super();
    layers.forEach((m, i) => {
      if (!(m instanceof Module)) throw new AutogradError("ARGUMENT", `Sequential: expected modules, got ${typeof m} at position ${i}`);
    });
    this.layers = layers;
  }

  forward(input: Tensor): Tensor {
    let x = input;
    for (const layer of this.layers) x = layer.forward(x);
    return x;
  }

  /** Parameters are named by position ("0.weight"), like torch. */
  override namedParameters(prefix = ""): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    const seen = new Set<Parameter>();
    this.layers.forEach((layer, i) => {
      for (const [path, p] of layer.namedParameters(prefix === "" ? `${i}` : `${prefix}.${i}`)) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([path, p]);
      }
    });
    return out;
  }
}

/** tanh, elementwise. */
export class Tanh extends Module {
  forward(input: Tensor): Tensor {
    return tanh(input);
  }
}

/** max(x, 0), elementwise (gradient 0 at 0). */
export class ReLU extends Module {
  forward(input: Tensor): Tensor {
    return relu(input);
  }
}

/** 1 / (1 + e⁻ˣ), elementwise (computed stably). */
export class Sigmoid extends Module {
  forward(input: Tensor): Tensor {
    return sigmoid(input);
  }
}
