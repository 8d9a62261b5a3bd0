/** The engines the CLI compares and explains with. */
import type { Engine } from "@chainrule/ir";
import { engine as forward } from "@chainrule/forward";
import { engine as reverse } from "@chainrule/reverse";
import { engine as jit } from "@chainrule/jit";

export type EngineName = "forward" | "reverse" | "jit";

export const ENGINE_NAMES: readonly EngineName[] = ["forward", "reverse", "jit"];

/** Engines available in this build, by name. */
export const ENGINES: Partial<Record<EngineName, Engine>> = { forward, reverse, jit };

/** The engine used to compute adjoints shown on graphs: reverse mode. */
export function adjointEngine(): Engine {
  return reverse;
}
