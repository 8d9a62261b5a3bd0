import { describeConformance } from "@chainrule/conformance";
import { engine } from "./index.js";

describeConformance(engine);
