import { describeConformance } from "@chainrule/conformance/vitest";
import { createEngine, engine } from "./index.js";

describeConformance(engine);

// chunk size 2 and the rules without the typed-array kernels: gradients, Jacobians and Hessians
// take several passes, and every rule runs on concrete values too
describeConformance(createEngine({ chunkSize: 2, fastKernels: false }), { graphs: 10 });
