import { describeConformance } from "@chainrule/conformance/vitest";
import { setBackend } from "@chainrule/ir";
import { resetWasmBackend, useWasmBackend, wasmBackendInfo } from "@chainrule/wasm";
import { afterAll, beforeAll } from "vitest";
import { engine } from "./index.js";

// The whole conformance suite with ir's eager ops on @chainrule/wasm's eager backend (thresholds 0).
// Compiled programs have their own executors; what the eager backend runs here is every concrete
// op outside them: the suite's eager references, constant folding and the interpreted steps of
// kernel programs. conformance.test.ts runs the same suite on ir's JavaScript backend.
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
  if (calls < 1000) throw new Error(`expected the conformance suite to run ≥ 1000 ops on the WebAssembly backend, got ${calls}`);
});

describeConformance(engine, {
  controlFlow: "throws",
  skip: { closures: "jit bakes closed-over values into the compiled graph (pass values that change as arguments)" },
});
