/** torch.nn-style modules over imperative autograd. */
export { Module, Linear, Sequential, Tanh, ReLU, Sigmoid, manualSeed, type LinearOptions } from "./module.js";
// issue 18 (nn): buffers, normalization, dropout, embedding, flatten, activations and initialisers
export { Buffer, defaultRandom } from "./module.js";
export {
  BatchNorm1d,
  BatchNorm2d,
  LayerNorm,
  Dropout,
  Embedding,
  Flatten,
  GELU,
  SiLU,
  type BatchNormOptions,
  type LayerNormOptions,
} from "./layers.js";
export { init, calculateGain, type Nonlinearity, type FanMode } from "./init.js";
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
