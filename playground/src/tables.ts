/**
 * The forward and reverse tables (real `<table>`s with captions and column headers) and the
 * explanation of the current step. Cells of steps not reached yet show "…"; the current row has
 * `aria-current="step"`.
 */
import { formatNumber } from "@chainrule/cli/learn";
import { fillTable, h } from "./dom.js";
import type { Analysis, ForwardStep, ReverseStep } from "./model.js";
import { seedLabel } from "./model.js";

const DOT = "\u0307"; // ẋ: tangent of x
const BAR = "\u0304"; // x̄: adjoint of x
const PENDING = "…";

export const cell = (v: number | string | object): string => (typeof v === "number" ? formatNumber(v) : String(v));

/** Where stepping is: `null` shows every step, else the index of the current one. */
export type StepIndex = number | null;

/** "pending" for steps after the current one, "current" for it, "" otherwise. */
function stateOf(position: number, current: StepIndex): "pending" | "current" | "" {
  if (current === null || position < current) return "";
  return position === current ? "current" : "pending";
}

function row(node: string, state: string, cells: readonly (string | HTMLElement)[]): HTMLTableRowElement {
  const [first, ...rest] = cells;
  return h(
    "tr",
    { "data-node": node, class: state || undefined, "aria-current": state === "current" ? "step" : undefined },
    h("th", { scope: "row" }, first!),
    ...rest.map((c) => (typeof c === "string" ? h("td", {}, c) : c)),
  );
}

const numberCell = (text: string, extra = "") => h("td", { class: `num ${extra}`.trim() }, text);

/** The forward table: a tangent per input direction (and along the custom vector), and the chain rule along the seed. */
export function renderForwardTable(table: HTMLTableElement, a: Analysis, steps: readonly ForwardStep[], current: StepIndex): void {
  const variables = a.parsed.variables;
  const seedColumn = a.seed.kind === "variable" ? a.seed.index : variables.length;
  const header = ["node", "op", "inputs", "value", ...variables.map((v) => `tangent ∂/∂${v}`)];
  if (a.along !== undefined) header.push(`tangent along ${seedLabel(a)}`);
  header.push(`chain rule along ${seedLabel(a)}`);
  const rows = a.forward.map((r, i) => {
    const state = stateOf(i, current);
    const hide = state === "pending";
    const tangents = r.tangents.map((t, k) => numberCell(hide ? PENDING : cell(t), k === seedColumn ? "seed-col" : ""));
    if (a.along !== undefined) tangents.push(numberCell(hide ? PENDING : cell(a.along[i]!.tangents[0]!), "seed-col"));
    const step = steps[i]!;
    const rule = hide ? PENDING : `${step.sum.symbolic} = ${step.sum.numeric}`;
    return row(r.node, state, [
      r.node,
      r.op,
      r.inputs.join(", "),
      numberCell(cell(r.value)),
      ...tangents,
      h("td", { class: "rule" }, rule),
    ]);
  });
  fillTable(table, `Forward mode: each value carries its tangent (seed ${seedLabel(a)})`, header, rows);
}

/** The reverse table, output first: each adjoint and the sum over its uses. */
export function renderReverseTable(table: HTMLTableElement, a: Analysis, steps: readonly ReverseStep[], current: StepIndex): void {
  const values = new Map(a.reverse.map((r) => [r.node, r]));
  const rows = steps.map((s, i) => {
    const state = stateOf(i, current);
    const hide = state === "pending";
    const r = values.get(s.node)!;
    const rule = hide ? PENDING : s.sum.numeric === "1" && r.isOutput ? `${s.sum.symbolic} = 1` : `${s.sum.symbolic} = ${s.sum.numeric}`;
    return row(s.node, state, [
      s.node,
      s.op,
      r.inputs.join(", "),
      numberCell(cell(r.value)),
      numberCell(hide ? PENDING : cell(s.adjoint), "seed-col"),
      h("td", { class: "rule" }, rule),
    ]);
  });
  fillTable(
    table,
    "Reverse mode: adjoints swept backward from the output (seed ∂f/∂f = 1)",
    ["node", "op", "inputs", "value", "adjoint ∂f/∂node", "= sum over its uses"],
    rows,
  );
}

/** What the current forward step computed, in words and numbers. */
export function explainForward(step: ForwardStep, a: Analysis): string {
  const t = `${step.node}${DOT}`;
  if (step.op === "input") {
    return `${step.node} is an input: its tangent is the seed's ${step.node} component (${seedLabel(a)}), ${t} = ${cell(step.tangent)}.`;
  }
  return `${step.node} = ${step.op}(${step.inputs.join(", ")}): ${t} = ${step.sum.symbolic} = ${step.sum.numeric} = ${cell(step.tangent)}.`;
}

/** What the current reverse step computed: the adjoint as the sum over the node's uses. */
export function explainReverse(step: ReverseStep, isOutput: boolean): string {
  const b = `${step.node}${BAR}`;
  if (isOutput) return `${step.node} is the output: the sweep starts from the seed ${b} = ∂${step.node}/∂${step.node} = 1.`;
  if (step.uses.length === 0) return `${step.node} is not used by the output: ${b} = 0.`;
  const users = step.uses.map((u) => u.from);
  const fan = users.length > 1 ? ` ${step.node} is used ${users.length} times (by ${users.join(" and ")}): one term per use.` : "";
  return `${b} = ${step.sum.symbolic} = ${step.sum.numeric} = ${cell(step.adjoint)}.${fan}`;
}
