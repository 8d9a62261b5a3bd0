import { describeConformance } from "@chainrule/conformance";
import { afterAll, beforeAll } from "vitest";
import { engine } from "../index.js";
import { configureKernels } from "./config.js";

// The whole conformance suite with every compiled program on the WebAssembly kernel executor
// (GEMM, fused elementwise and reduction kernels, reference steps for the rest), on two threads
// where possible. The default suite (../conformance.test.ts) runs the generated JavaScript for
// these small programs; together they check kernels on and off.
let before: ReturnType<typeof configureKernels>;
beforeAll(() => {
  before = configureKernels({ everyProgram: true, threads: 2 });
});
afterAll(() => {
  configureKernels(before);
});

describeConformance(engine, {
  controlFlow: "throws",
  skip: { closures: "jit bakes closed-over values into the compiled graph (pass values that change as arguments)" },
});
