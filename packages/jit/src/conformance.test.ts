import { describeConformance } from "@chainrule/conformance/vitest";
import { engine } from "./index.js";

// The JIT traces: a branch on a traced value throws a ConcretizationError suggesting where(...).
// Values a function closes over are baked into its compiled graph (as in JAX's jit); a changed
// closed-over value is not seen until the signature changes: pass changing values as arguments.
describeConformance(engine, {
  controlFlow: "throws",
  skip: { closures: "jit bakes closed-over values into the compiled graph (pass values that change as arguments)" },
});
