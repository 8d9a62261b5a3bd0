import { describeConformance } from "@chainrule/conformance/vitest";
import { setBackend } from "@chainrule/ir";
import { resetWasmBackend, useWasmBackend, wasmBackendInfo } from "@chainrule/wasm";
import { afterAll, beforeAll } from "vitest";
import { engine } from "./index.js";

// The whole conformance suite with ir's eager ops on the WebAssembly backend (@chainrule/wasm), its
// size thresholds at 0 so that every float matmul, elementwise op and reduction it covers runs on
// the kernels. conformance.test.ts runs the same suite on ir's JavaScript backend.
let before = 0;
const kernelCalls = () => Object.values(wasmBackendInfo().ran).reduce((a, b) => a + b, 0);
beforeAll(() => {
  if (!useWasmBackend({ minElements: 0, minMatmulWork: 0 }))
    throw new Error(`expected the WebAssembly backend, got ${wasmBackendInfo().unavailable}`);
  before = kernelCalls();
});
afterAll(() => {
  setBackend("js");
  const calls = kernelCalls() - before;
  resetWasmBackend();
  // the suite really ran on kernels
  if (calls < 1000) throw new Error(`expected the conformance suite to run ≥ 1000 ops on the WebAssembly backend, got ${calls}`);
});

const skip = { customVjp: "every transformation of the forward engine is forward mode (customVjp functions raise ForwardModeError)" };

describeConformance(engine, { skip });
