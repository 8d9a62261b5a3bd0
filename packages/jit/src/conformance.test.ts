import { describeConformance } from "@chainrule/conformance";
import { engine } from "./index.js";

// The JIT traces: a branch on a traced value throws a ConcretizationError suggesting where(...).
describeConformance(engine, { controlFlow: "throws" });
