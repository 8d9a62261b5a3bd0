import { describeComparison, describeConformance } from "./vitest.js";
import { forwardEngine, reverseEngine } from "./__tests__/reference.js";

// the whole suite on the correct reference engines (fewer graphs: their vjp/jvp build full Jacobians)
// forward mode of a customVjp function is an error, and every derivative of ref-forward is forward mode
describeConformance(forwardEngine(), { graphs: 25, skip: { customVjp: "every transformation of ref-forward is forward mode" } });
describeConformance(reverseEngine(), { graphs: 25 });
describeComparison([forwardEngine(), reverseEngine()], { graphs: 3 });
