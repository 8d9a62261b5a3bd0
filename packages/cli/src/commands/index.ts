import type { Command } from "../context.js";
import { graphCommand } from "./graph.js";

/** Every command, in the order `--help` lists them. */
export const COMMANDS: readonly Command[] = [graphCommand];
