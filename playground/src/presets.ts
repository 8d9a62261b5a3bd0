/** The preset functions, with the point each opens at. */
export interface Preset {
  readonly id: string;
  readonly title: string;
  readonly source: string;
  readonly point: Readonly<Record<string, number>>;
}

export const PRESETS: readonly Preset[] = [
  { id: "seed", title: "the seed: (x + y)(x − y)", source: "(x + y) * (x - y)", point: { x: 3, y: 2 } },
  { id: "neuron", title: "a neuron: tanh(w·x + b)", source: "tanh(w * x + b)", point: { w: 0.5, x: 2, b: -0.3 } },
  {
    id: "softmax",
    title: "softmax cross-entropy of two logits (label 0)",
    // −log softmax(z)₀ = log(e^z0 + e^z1) − z0
    source: "log(exp(z0) + exp(z1)) - z0",
    point: { z0: 1, z1: -0.5 },
  },
  { id: "sinexp", title: "sin(x)·exp(y)", source: "sin(x) * exp(y)", point: { x: 0.5, y: 1 } },
];
