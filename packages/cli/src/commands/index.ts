import type { Command } from "../context.js";
import { codegenCommand } from "./codegen.js";
import { explainCommand } from "./explain.js";
import { gradCommand } from "./grad.js";
import { graphCommand } from "./graph.js";

/** Every command, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = [explainCommand, graphCommand, gradCommand, codegenCommand];
