import { describeConformance } from "@chainrule/conformance/vitest";
import { fusionStatus, resetFusionStats, setFusion } from "@chainrule/ir";
import { afterAll, beforeAll } from "vitest";
import { engine } from "./index.js";

// The whole conformance suite with eager elementwise fusion at every size (minSize 1): every
// elementwise primitive on concrete operands of one shape, and its one-direction tangent, is a
// lazy value computed in fused loops. conformance.test.ts runs the same suite at the default
// threshold (where the suite's small values are not fused).
let previous: ReturnType<typeof setFusion> | undefined;
beforeAll(() => {
  previous = setFusion({ enabled: true, minSize: 1 });
  resetFusionStats();
});
afterAll(() => {
  const { lazy } = fusionStatus();
  if (previous !== undefined) setFusion(previous);
  // the suite really ran fused
  if (lazy < 10000) throw new Error(`expected the conformance suite to make ≥ 10,000 lazy values, got ${lazy}`);
});

const skip = { customVjp: "every transformation of the forward engine is forward mode (customVjp functions raise ForwardModeError)" };

describeConformance(engine, { skip });
