/**
 * The playground page: wires the input (expression, point, seed), the stepping controls, the
 * tables, the Graphviz graph and the engines panel. Every update recomputes from the state; any
 * failure is shown on the page, never thrown out of an event handler.
 */
import "./style.css";
import { caretExcerpt, formatNumber, generatedCode, renderSvg } from "@chainrule/cli/learn";
import { engine as forwardEngine } from "@chainrule/forward";
import type { Engine } from "@chainrule/ir";
import { emitModule, engine as jitEngine } from "@chainrule/jit";
import { engine as reverseEngine } from "@chainrule/reverse";
import { byId, fillTable, h } from "./dom.js";
import { graphDot, nodeId, type Mode } from "./graph.js";
import {
  analyse,
  forwardSteps,
  gradientBy,
  isProblem,
  parse,
  readNumber,
  reverseSteps,
  type Analysis,
  type InputProblem,
  type Parsed,
  type Seed,
} from "./model.js";
import { PRESETS } from "./presets.js";
import { explainForward, explainReverse, renderForwardTable, renderReverseTable, type StepIndex } from "./tables.js";
import { startTour } from "./tour.js";

const ENGINES: readonly (readonly [string, Engine])[] = [
  ["forward", forwardEngine],
  ["reverse", reverseEngine],
  ["jit", jitEngine],
];

interface State {
  source: string;
  /** Values by variable name (kept across edits of the expression). */
  values: Map<string, number>;
  mode: Mode;
  /** Index of the seed variable, or -1 for the custom vector. */
  seedIndex: number;
  custom: Map<string, number>;
  step: StepIndex;
}

const state: State = {
  source: PRESETS[0]!.source,
  values: new Map(Object.entries(PRESETS[0]!.point)),
  mode: "forward",
  seedIndex: 0,
  custom: new Map(),
  step: null,
};

const ui = {
  expr: byId<HTMLInputElement>("expr"),
  exprError: byId<HTMLPreElement>("expr-error"),
  presets: byId("presets"),
  pointFields: byId("point-fields"),
  seedOptions: byId("seed-options"),
  seedVector: byId("seed-vector"),
  seedFieldset: byId<HTMLFieldSetElement>("seed"),
  back: byId<HTMLButtonElement>("step-back"),
  next: byId<HTMLButtonElement>("step-next"),
  restart: byId<HTMLButtonElement>("step-reset"),
  all: byId<HTMLButtonElement>("step-all"),
  status: byId("step-status"),
  explanation: byId("explanation"),
  forwardTable: byId<HTMLTableElement>("forward-table"),
  reverseTable: byId<HTMLTableElement>("reverse-table"),
  graph: byId("graph"),
  graphHelp: byId("graph-help"),
  enginesTable: byId<HTMLTableElement>("engines-table"),
  jitNote: byId("jit-note"),
  jitSource: byId("jit-source"),
};

/** What the last good input gave (kept, dimmed, while the input is bad). */
let current: Analysis | undefined;
/** The variables the point and seed fields were built for. */
let fieldsFor = "";

// ---------------------------------------------------------------- input

function showProblem(problem: InputProblem | undefined): void {
  const bad = problem !== undefined;
  ui.exprError.hidden = !bad;
  document.body.classList.toggle("stale", bad);
  if (!bad) {
    ui.exprError.textContent = "";
    ui.expr.removeAttribute("aria-invalid");
    return;
  }
  const located = problem.column !== undefined && problem.source !== undefined;
  ui.expr.setAttribute("aria-invalid", located ? "true" : "false");
  ui.exprError.textContent = located
    ? `${problem.message} at column ${problem.column}\n${caretExcerpt(problem.source!, problem.column!, "")}`
    : problem.message;
}

function numberField(id: string, label: string, value: number, onValue: (v: number) => void, slider: boolean): HTMLElement {
  const input = h("input", { id, type: "text", value: String(value), inputmode: "decimal", autocomplete: "off", spellcheck: "false" });
  const range = h("input", {
    id: `${id}-slider`,
    type: "range",
    min: Math.min(-5, Math.floor(value) - 1),
    max: Math.max(5, Math.ceil(value) + 1),
    step: "0.1",
    value: String(value),
    "aria-label": `${label} slider`,
  });
  input.addEventListener("input", () => {
    const v = readNumber(label, input.value);
    if (typeof v !== "number") return showProblem(v);
    // the slider's range grows to hold a typed value
    if (v < Number(range.min)) range.min = String(Math.floor(v) - 1);
    if (v > Number(range.max)) range.max = String(Math.ceil(v) + 1);
    range.value = String(v);
    onValue(v);
  });
  range.addEventListener("input", () => {
    input.value = range.value;
    onValue(Number(range.value));
  });
  return h("div", { class: "field" }, h("label", { for: id }, label), input, ...(slider ? [range] : []));
}

/** Rebuilds the point and seed fields when the variables change (not while typing a value). */
function buildFields(variables: readonly string[]): void {
  const key = variables.join(",");
  if (key === fieldsFor) return;
  fieldsFor = key;
  ui.pointFields.replaceChildren(
    ...variables.map((v) =>
      numberField(
        `value-${v}`,
        v,
        state.values.get(v) ?? 1,
        (x) => {
          state.values.set(v, x);
          update();
        },
        true,
      ),
    ),
  );
  if (state.seedIndex >= variables.length) state.seedIndex = 0;
  const radio = (index: number, text: string) =>
    h("label", {}, h("input", { type: "radio", name: "seed", value: String(index), checked: index === state.seedIndex }), ` ${text}`);
  ui.seedOptions.replaceChildren(...variables.map((v, i) => radio(i, `∂/∂${v}`)), radio(-1, "custom vector"));
  ui.seedVector.replaceChildren(
    ...variables.map((v) =>
      numberField(
        `seed-${v}`,
        `v${v}`,
        state.custom.get(v) ?? 1,
        (x) => {
          state.custom.set(v, x);
          update();
        },
        false,
      ),
    ),
  );
  ui.seedVector.hidden = state.seedIndex !== -1;
}

function seedOf(parsed: Parsed): Seed {
  if (state.seedIndex >= 0) return { kind: "variable", index: state.seedIndex };
  return { kind: "custom", vector: parsed.variables.map((v) => state.custom.get(v) ?? 1) };
}

// ---------------------------------------------------------------- stepping

function stepCount(a: Analysis): number {
  return state.mode === "forward" ? a.forward.length : a.reverse.length;
}

function renderSteps(a: Analysis): void {
  const count = stepCount(a);
  if (state.step !== null) state.step = Math.max(0, Math.min(state.step, count - 1));
  const i = state.step;
  ui.forwardTable.hidden = state.mode !== "forward";
  ui.reverseTable.hidden = state.mode !== "reverse";
  // the other mode's table is rebuilt when shown: no stale current row for screen readers meanwhile
  (state.mode === "forward" ? ui.reverseTable : ui.forwardTable).replaceChildren();
  ui.seedFieldset.hidden = state.mode !== "forward";
  if (state.mode === "forward") {
    const steps = forwardSteps(a);
    renderForwardTable(ui.forwardTable, a, steps, i);
    ui.explanation.textContent =
      i === null
        ? "Forward mode runs once per seed direction, computing each value and its tangent together. Press Step to follow it node by node."
        : explainForward(steps[i]!, a);
  } else {
    const steps = reverseSteps(a);
    renderReverseTable(ui.reverseTable, a, steps, i);
    const outputs = new Set(a.reverse.filter((r) => r.isOutput).map((r) => r.node));
    ui.explanation.textContent =
      i === null
        ? "Reverse mode records the values, then sweeps backward from the output once for the whole gradient. Press Step to follow it."
        : explainReverse(steps[i]!, outputs.has(steps[i]!.node));
  }
  ui.status.textContent = i === null ? `all ${count} steps shown` : `step ${i + 1} of ${count}`;
  ui.back.disabled = i === 0;
  ui.next.disabled = i === count - 1;
  highlightGraph();
}

function go(step: StepIndex): void {
  state.step = step;
  if (current) renderSteps(current);
}

// ---------------------------------------------------------------- graph

let graphRequest = 0;
let graphFor = "";

/** Renders the graph with Graphviz (WebAssembly) unless the same graph is already shown. */
function renderGraph(a: Analysis): void {
  const dot = graphDot(a, state.mode);
  if (dot === graphFor) return highlightGraph();
  graphFor = dot;
  const request = ++graphRequest;
  ui.graphHelp.textContent =
    state.mode === "forward"
      ? "Each node shows its value and its tangent along the seed; edges carry the local partials ∂node/∂input."
      : "Each node shows its value and its adjoint ∂f/∂node; edges carry each use's contribution to its input's adjoint.";
  renderSvg(dot).then(
    (svg) => {
      if (request !== graphRequest) return;
      const doc = new DOMParser().parseFromString(svg, "image/svg+xml");
      const root = document.importNode(doc.documentElement, true);
      root.setAttribute("aria-hidden", "true");
      root.setAttribute("focusable", "false");
      ui.graph.replaceChildren(root);
      highlightGraph();
    },
    (e: unknown) => {
      if (request !== graphRequest) return;
      graphFor = "";
      const why = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
      ui.graph.replaceChildren(
        h(
          "p",
          { class: "error", role: "status" },
          "The graph is drawn by Graphviz compiled to WebAssembly, which this page's Content-Security-Policy forbids " +
            "(no 'wasm-unsafe-eval'). The tables show every number the graph would.",
        ),
        details("Graphviz's error", why),
      );
    },
  );
}

/** Moves the highlight to the current step: its node, the edges it reads (forward) or the uses it sums (reverse). */
function highlightGraph(): void {
  const svg = ui.graph.querySelector("svg");
  if (!svg || !current) return;
  for (const el of svg.querySelectorAll(".current, .active, .source, .done")) el.classList.remove("current", "active", "source", "done");
  const i = state.step;
  if (i === null) return;
  const order = state.mode === "forward" ? current.forward.map((r) => r.node) : [...current.reverse].reverse().map((r) => r.node);
  const node = order[i]!;
  order.slice(0, i).forEach((n) => svg.getElementById(nodeId(n))?.classList.add("done"));
  svg.getElementById(nodeId(node))?.classList.add("current");
  const edges = svg.querySelectorAll(state.mode === "forward" ? `.to-${CSS.escape(node)}` : `.from-${CSS.escape(node)}`);
  for (const edge of edges) {
    edge.classList.add("active");
    const other = [...edge.classList].find((c) => c.startsWith(state.mode === "forward" ? "from-" : "to-"));
    const name = other?.slice(state.mode === "forward" ? 5 : 3);
    if (name !== undefined) svg.getElementById(nodeId(name))?.classList.add("source");
  }
}

// ---------------------------------------------------------------- engines

/** A collapsed `<details>` holding an error message. */
function details(summary: string, text: string): HTMLElement {
  return h("details", {}, h("summary", {}, summary), h("p", { class: "detail" }, text));
}

function renderEngines(parsed: Parsed, point: readonly number[]): void {
  const results = ENGINES.map(([name, engine]) => gradientBy(name, engine, parsed, point));
  const reference = results.find((r) => r.engine === "reverse");
  // equal (infinities included), within 1e-12 relative, or both NaN
  const close = (x: number, y: number) => x === y || Math.abs(x - y) <= 1e-12 * (1 + Math.abs(y)) || (Number.isNaN(x) && Number.isNaN(y));
  const rows = results.map((r) => {
    const numbers =
      r.error === undefined
        ? [r.value!, ...r.gradient!].map((v) => h("td", { class: "num" }, formatNumber(v)))
        : [h("td", { colspan: parsed.variables.length + 1, class: "error" }, "no result (see below)")];
    const agrees =
      r.error !== undefined || reference?.gradient === undefined
        ? "—"
        : r.gradient!.every((g, i) => close(g, reference.gradient![i]!)) && close(r.value!, reference.value!)
          ? "yes"
          : "NO";
    return h("tr", { "data-engine": r.engine }, h("th", { scope: "row" }, r.engine), ...numbers, h("td", {}, agrees));
  });
  fillTable(
    ui.enginesTable,
    `f and its gradient at (${point.map((v) => formatNumber(v)).join(", ")}) by each engine`,
    ["engine", "f", ...parsed.variables.map((v) => `∂f/∂${v}`), "agrees with reverse"],
    rows,
  );
  const jit = results.find((r) => r.engine === "jit")!;
  const code = ui.jitSource.firstElementChild ?? ui.jitSource;
  if (jit.error === undefined) {
    const generated = generatedCode(parsed.fn, point);
    ui.jitNote.textContent =
      "What jit(valueAndGrad(f)) compiled with new Function: returns [f, ∇f…]; inputs x0, x1, … are the variables in order.";
    code.textContent = generated.valueAndGrad;
    ui.jitNote.classList.remove("error");
    return;
  }
  ui.jitNote.classList.add("error");
  ui.jitNote.replaceChildren(
    "The JIT cannot run on this page: its Content-Security-Policy forbids eval (no 'unsafe-eval'), and the JIT builds its " +
      "generated JavaScript with new Function. Forward and reverse mode never generate code, so they work here. " +
      "Below is the code the JIT would run, from emitModule, which generates it without eval.",
    details("The JIT's error", jit.error),
  );
  try {
    code.textContent = emitModule(parsed.fn, [...point], { emit: ["valueAndGrad"], argnums: parsed.variables.map((_, i) => i) });
  } catch (e) {
    code.textContent = `emitModule failed too: ${e instanceof Error ? e.message : String(e)}`;
  }
}

// ---------------------------------------------------------------- update

/** Recomputes everything from the state. Never throws: problems are shown on the page. */
function update(): void {
  try {
    const parsed = parse(state.source);
    if (isProblem(parsed)) return showProblem(parsed);
    buildFields(parsed.variables);
    const point = parsed.variables.map((v) => state.values.get(v) ?? 1);
    const analysis = analyse(parsed, point, seedOf(parsed));
    if (isProblem(analysis)) return showProblem(analysis);
    showProblem(undefined);
    current = analysis;
    renderSteps(analysis);
    renderGraph(analysis);
    renderEngines(parsed, point);
  } catch (e) {
    showProblem({ message: `unexpected error: ${e instanceof Error ? e.message : String(e)}` });
  }
}

// ---------------------------------------------------------------- controls

export interface Controller {
  loadPreset(id: string): void;
  setMode(mode: Mode): void;
  setSeed(index: number): void;
  go(step: StepIndex): void;
  /** The index of `node` in the current mode's step order. */
  stepOf(node: string): number;
}

function setMode(mode: Mode): void {
  state.mode = mode;
  for (const input of document.querySelectorAll<HTMLInputElement>('input[name="mode"]')) input.checked = input.value === mode;
  if (state.step !== null) state.step = 0;
  update();
}

function setSeed(index: number): void {
  state.seedIndex = index;
  for (const input of ui.seedOptions.querySelectorAll<HTMLInputElement>('input[name="seed"]'))
    input.checked = Number(input.value) === index;
  ui.seedVector.hidden = index !== -1;
  update();
}

function loadPreset(id: string): void {
  const preset = PRESETS.find((p) => p.id === id);
  if (!preset) return;
  state.source = preset.source;
  ui.expr.value = preset.source;
  for (const [name, value] of Object.entries(preset.point)) state.values.set(name, value);
  fieldsFor = ""; // the values changed: rebuild the fields
  state.step = null;
  update();
}

const controller: Controller = {
  loadPreset,
  setMode,
  setSeed,
  go,
  stepOf: (node) => {
    if (!current) return 0;
    const order = state.mode === "forward" ? current.forward.map((r) => r.node) : [...current.reverse].reverse().map((r) => r.node);
    return Math.max(0, order.indexOf(node));
  },
};

function wire(): void {
  ui.expr.value = state.source;
  ui.expr.addEventListener("input", () => {
    state.source = ui.expr.value;
    update();
  });
  ui.presets.replaceChildren(
    ...PRESETS.map((p) => {
      const button = h("button", { type: "button", "data-preset": p.id }, p.title);
      button.addEventListener("click", () => loadPreset(p.id));
      return button;
    }),
  );
  for (const input of document.querySelectorAll<HTMLInputElement>('input[name="mode"]')) {
    input.addEventListener("change", () => setMode(input.value as Mode));
  }
  ui.seedOptions.addEventListener("change", (e) => {
    const target = e.target as HTMLInputElement;
    if (target.name === "seed") setSeed(Number(target.value));
  });
  ui.next.addEventListener("click", () => go(state.step === null ? 0 : state.step + 1));
  ui.back.addEventListener("click", () => go(state.step === null ? (current ? stepCount(current) - 1 : 0) : state.step - 1));
  ui.restart.addEventListener("click", () => go(0));
  ui.all.addEventListener("click", () => go(null));
  byId("tour-start").addEventListener("click", () => startTour(controller));
  update();
}

wire();
