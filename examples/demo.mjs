// The demo (the README's first command, `npm run demo`): the seed f(x, y) = (x + y)(x − y) at
// (3, 2) through every engine, the forward and backward tables, the graph as SVG, then a small
// MLP trained with Adam on two spirals, with a progress bar. Runs against the TypeScript sources
// (tsx, "@chainrule/source" condition): no build needed. .ci/run checks that a line of the
// output ends in "= 5" (the seed value); keep such a line.
import { mkdirSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { runCli } from "@chainrule/cli";
import { add, mul, sub } from "@chainrule/ir";
import { largestDisagreement, seedThroughEngines } from "./src/seed.ts";
import { MLP_DEFAULTS, lossCurveSvg, trainMlp } from "./src/mlp.ts";
import { progressBar } from "./src/progress.ts";
import { writeFileSync } from "node:fs";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "out");
/** A path relative to the repository root, where `npm run demo` is started. */
const fromRoot = (file) => relative(join(here, ".."), file);
mkdirSync(out, { recursive: true });
const tty = Boolean(process.stdout.isTTY);
const heading = (text) => console.log(`\n${tty ? `\u001b[1m${text}\u001b[22m` : text}\n${"─".repeat(text.length)}`);
const SEED = "(x + y) * (x - y)";
const started = performance.now();

heading("1. The seed f(x, y) = (x + y)(x − y) at (3, 2), in every engine");
console.log(`eager (no differentiation): f(3, 2) = ${mul(add(3, 2), sub(3, 2)).item()}`);
const rows = seedThroughEngines(3, 2);
for (const row of rows) console.log(`${row.engine.padEnd(8)} value ${row.value}   gradient [${row.gradient.join(", ")}]`);
const worst = largestDisagreement(rows);
console.log(`${rows.length} engines, largest disagreement ${worst}: ${worst === 0 ? "they agree exactly" : "they DISAGREE"}`);
console.log(`f(x, y) = (x + y)(x - y) at (3, 2) = ${rows[0].value}`);

heading("2. Forward and backward, step by step (chainrule explain)");
let code = await runCli(["explain", SEED, "--at", "x=3,y=2"]);
if (code !== 0) process.exit(code);

heading("3. The computational graph (chainrule graph)");
console.log("(the graph names values by their ids: v2, v3, v4 are a, b, f of the tables above)\n");
code = await runCli(["graph", SEED, "--format", "ascii", "--at", "x=3,y=2"]);
const svgFile = join(out, "seed-graph.svg");
code ||= await runCli(["graph", SEED, "--format", "svg", "--at", "x=3,y=2", "-o", svgFile], { stderr: () => {} });
if (code !== 0) process.exit(code);
console.log(`\nthe same graph as SVG (Graphviz in WebAssembly): ${fromRoot(svgFile)}`);

heading("4. Training: an MLP on two spirals with Adam");
const bar = progressBar(MLP_DEFAULTS.steps, "training");
const result = trainMlp({ onStep: (step, loss) => bar.update(step + 1, `loss ${loss.toFixed(4)}`) });
bar.done(`loss ${result.losses.at(-1).toFixed(4)}`);
const curve = join(out, "mlp-loss.svg");
writeFileSync(curve, lossCurveSvg(result.losses));
console.log(
  `accuracy: ${(100 * result.accuracy).toFixed(1)}% on the training points, ${(100 * result.testAccuracy).toFixed(1)}% on fresh points`,
);
console.log(`loss curve written to ${fromRoot(curve)}`);

console.log(`\ndone in ${((performance.now() - started) / 1000).toFixed(1)} s. Next: docs/tutorial.md, or try`);
console.log(`  pnpm --filter @chainrule/examples run chainrule explain "sin(x) * exp(y)" --at x=0.5,y=1`);
