/** torch.nn-style modules over imperative autograd. */
export { Module, Linear, Sequential, Tanh, ReLU, Sigmoid, manualSeed, type LinearOptions } from "./module.js";
