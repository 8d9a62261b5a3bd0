import { describeConformance } from "@chainrule/conformance/vitest";
import { createEngine, engine } from "./index.js";

// Every derivative here is forward mode (grad and vjp too), and forward mode of a customVjp function
// is an error (its bwd need not be linear): the customVjp cases expect reverse mode. The cases on
// the forward-mode error itself run.
const skip = { customVjp: "every transformation of the forward engine is forward mode (customVjp functions raise ForwardModeError)" };

describeConformance(engine, { skip });

// chunk size 2 and the rules without the typed-array kernels: gradients, Jacobians and Hessians
// take several passes, and every rule runs on concrete values too
describeConformance(createEngine({ chunkSize: 2, fastKernels: false }), { graphs: 10, skip });
