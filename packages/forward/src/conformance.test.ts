import { describeConformance } from "@chainrule/conformance";
import { createEngine, engine } from "./index.js";

describeConformance(engine);

// chunk size 2: gradients, Jacobians and Hessians take several passes
describeConformance(createEngine({ chunkSize: 2 }), { groups: ["seed", "per-op transformations", "per-op hessian"] });
