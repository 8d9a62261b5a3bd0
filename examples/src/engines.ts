/** The engines, by name, for examples that run the same code through each. */
import type { Engine } from "@chainrule/ir";
import { engine as forward } from "@chainrule/forward";
import { engine as reverse } from "@chainrule/reverse";
import { engine as jit } from "@chainrule/jit";

export const ENGINES: readonly { readonly name: string; readonly engine: Engine }[] = [
  { name: "forward", engine: forward },
  { name: "reverse", engine: reverse },
  { name: "jit", engine: jit },
];
