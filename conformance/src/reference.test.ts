import { describeComparison, describeConformance } from "./vitest.js";
import { forwardEngine, reverseEngine } from "./__tests__/reference.js";

// the whole suite on the correct reference engines (fewer graphs: their vjp/jvp build full Jacobians)
describeConformance(forwardEngine(), { graphs: 25 });
describeConformance(reverseEngine(), { graphs: 25 });
describeComparison([forwardEngine(), reverseEngine()], { graphs: 3 });
