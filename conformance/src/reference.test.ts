import { describeComparison, describeConformance } from "./index.js";
import { forwardEngine, reverseEngine } from "./__tests__/reference.js";

describeConformance(forwardEngine());
describeConformance(reverseEngine());
describeComparison([forwardEngine(), reverseEngine()], { graphs: 3 });
