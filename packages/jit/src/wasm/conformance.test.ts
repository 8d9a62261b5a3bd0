import { describeConformance } from "@chainrule/conformance/vitest";
import { afterAll, beforeAll } from "vitest";
import { engine } from "../index.js";
import { configureKernels, kernelInfo } from "./config.js";

// The whole conformance suite with every compiled program on the WebAssembly kernel executor
// (GEMM, fused elementwise and reduction kernels, reference steps for the rest), on two threads
// where possible. The default suite (../conformance.test.ts) runs the generated JavaScript for
// these small programs; together they check kernels on and off.
let before: ReturnType<typeof configureKernels>;
let programs = 0;
beforeAll(() => {
  before = configureKernels({ everyProgram: true, threads: 2 });
  programs = kernelInfo().programs;
});
afterAll(() => {
  configureKernels(before);
  // the suite really ran on kernels (thousands of compiled programs)
  const compiled = kernelInfo().programs - programs;
  if (compiled < 1000) throw new Error(`expected the conformance suite to compile ≥ 1000 kernel programs, got ${compiled}`);
});

describeConformance(engine, {
  controlFlow: "throws",
  skip: { closures: "jit bakes closed-over values into the compiled graph (pass values that change as arguments)" },
});
