/** The engines the CLI compares and explains with. */
import type { Engine } from "@chainrule/ir";

export type EngineName = "forward" | "reverse" | "jit";

export const ENGINE_NAMES: readonly EngineName[] = ["forward", "reverse", "jit"];

/** Engines available in this build, by name. */
export const ENGINES: Partial<Record<EngineName, Engine>> = {};

/** The engine used to compute adjoints shown on graphs: reverse mode when available. */
export function adjointEngine(): Engine | undefined {
  return ENGINES.reverse ?? ENGINES.jit ?? ENGINES.forward;
}
