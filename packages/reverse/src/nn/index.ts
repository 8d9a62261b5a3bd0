/** torch.nn-style modules over imperative autograd. */
export { Module, Linear, Sequential, Tanh, ReLU, Sigmoid, manualSeed, type LinearOptions } from "./module.js";
// issue 18 (conv): convolution and pooling modules
export {
  Conv1d,
  Conv2d,
  ConvTranspose2d,
  MaxPool2d,
  AvgPool2d,
  type ConvModuleOptions,
  type ConvTransposeModuleOptions,
  type PoolModuleOptions,
  type AvgPoolModuleOptions,
} from "./conv.js";
