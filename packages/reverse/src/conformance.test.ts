import { describeConformance } from "@chainrule/conformance/vitest";
import { engine } from "./index.js";

describeConformance(engine);
