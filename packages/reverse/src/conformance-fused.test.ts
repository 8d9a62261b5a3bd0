import { describeConformance } from "@chainrule/conformance/vitest";
import { fusionStatus, resetFusionStats, setFusion } from "@chainrule/ir";
import { afterAll, beforeAll } from "vitest";
import { engine } from "./index.js";

// The whole conformance suite with eager elementwise fusion taking every elementwise primitive it
// can, whatever the size (minSize 1): the tape's values and the sweep's cotangents are lazy and
// computed in fused loops. conformance.test.ts runs the same suite with the default threshold
// (4096 elements, above every value of the suite: nothing fused).
beforeAll(() => {
  setFusion({ minSize: 1 });
  resetFusionStats();
});
afterAll(() => {
  const { lazy, materialized, fusedSums } = fusionStatus();
  setFusion({ minSize: 4096 });
  // the suite really ran fused
  if (lazy < 1000 || materialized < 100) {
    throw new Error(
      `expected the conformance suite to make ≥ 1000 lazy values and compute ≥ 100, got ${lazy}, ${materialized} (${fusedSums} sums)`,
    );
  }
});

describeConformance(engine);
