/**
 * The playground (playground/) in headless Chromium: its production build served as static files,
 * driven like a learner drives it — typing the expression, stepping through forward and reverse
 * mode, with the keyboard alone — under no CSP, a CSP without 'unsafe-eval', and one without
 * WebAssembly either. Screenshots of both modes go to $CHAINRULE_SCREENSHOTS (default: a
 * temporary folder; `CHAINRULE_SCREENSHOTS=docs/images` refreshes the README's).
 */
import { mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserSkipReason, chromiumInstalled, launchChromium, requireChromium } from "./chromium.js";
import { buildPlayground, PLAYGROUND, servePlayground, type PlaygroundVariant } from "./playground-harness.js";

const skipReason = browserSkipReason();
const SEED = "(x + y) * (x - y)";
const D = "\u0307"; // ẋ: tangent mark
const B = "\u0304"; // x̄: adjoint mark
const SHOTS = resolve(PLAYGROUND, "..", process.env["CHAINRULE_SCREENSHOTS"] ?? join(tmpdir(), "chainrule-playground-shots"));

let browser: Browser | undefined;
let base = "";
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  if (skipReason !== undefined || !chromiumInstalled()) return;
  const built = await buildPlayground();
  cleanups.push(built.remove);
  const server = await servePlayground(built.dir);
  cleanups.push(server.close);
  base = server.url;
  browser = await launchChromium();
  cleanups.push(() => browser!.close());
}, 120_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** Opens the page under `variant`, runs `body`, then fails on console/page errors other than `expected` ones. */
async function onPlayground(variant: PlaygroundVariant, body: (page: Page) => Promise<void>, expected: RegExp[] = []): Promise<void> {
  requireChromium();
  const context = await browser!.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console.error: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`page error: ${e.name}: ${e.message}`));
  try {
    await page.goto(`${base}/${variant}/`);
    await page.waitForSelector("#forward-table tbody tr");
    await body(page);
    expect(errors.filter((e) => !expected.some((x) => x.test(e)))).toEqual([]);
  } finally {
    await context.close();
  }
}

/** The text of every body row's cells (the row header first). */
function cells(page: Page, table: string): Promise<string[][]> {
  return page.$$eval(`${table} tbody tr`, (rows) => rows.map((r) => [...r.children].map((c) => c.textContent ?? "")));
}

/** The node of the row marked aria-current="step", and the graph node highlighted as current. */
async function highlighted(page: Page): Promise<{ row: string | null; graph: string | null }> {
  return page.evaluate(() => ({
    row: document.querySelector('tbody tr[aria-current="step"]')?.getAttribute("data-node") ?? null,
    graph: document.querySelector("#graph g.node.current")?.id ?? null,
  }));
}

/** Ids of the graph's highlighted edges, sorted. */
function activeEdges(page: Page): Promise<string[]> {
  return page.$$eval("#graph g.edge.active", (edges) => edges.map((e) => e.id).sort());
}

/** Replaces the expression by typing it, as a user would. */
async function typeExpression(page: Page, text: string): Promise<void> {
  await page.fill("#expr", "");
  await page.locator("#expr").pressSequentially(text);
}

async function setValue(page: Page, name: string, value: string): Promise<void> {
  await page.fill(`#value-${name}`, value);
}

/** The engines table: `engine → [f, ∂f/∂x, …, agrees]`. */
async function engines(page: Page): Promise<Record<string, string[]>> {
  const rows = await cells(page, "#engines-table");
  return Object.fromEntries(rows.map(([name, ...rest]) => [name!, rest]));
}

/** Types the seed at (3, 2) starting from another preset, so that every number on the page must change. */
async function typeSeed(page: Page): Promise<void> {
  await page.click('[data-preset="sinexp"]');
  await typeExpression(page, SEED);
  await setValue(page, "x", "3");
  await setValue(page, "y", "2");
  await page.waitForFunction(() => document.querySelector("#graph svg #node-f") !== null);
}

const FORWARD_SEED = [
  ["x", "input", "", "3", "1", "0", `seed: x${D} = 1`],
  ["y", "input", "", "2", "0", "1", `seed: y${D} = 0`],
  ["a", "add", "x, y", "5", "1", "1", `∂a/∂x·x${D} + ∂a/∂y·y${D} = 1·1 + 1·0`],
  ["b", "sub", "x, y", "1", "1", "-1", `∂b/∂x·x${D} + ∂b/∂y·y${D} = 1·1 + (-1)·0`],
  ["f", "mul", "a, b", "5", "6", "-4", `∂f/∂a·a${D} + ∂f/∂b·b${D} = 1·1 + 5·1`],
];

/** Forward mode, seeded with ∂/∂x: every step's row, graph node, edges and explanation. */
async function stepForward(page: Page): Promise<void> {
  await page.check('input[name="mode"][value="forward"]');
  await page.check('input[name="seed"][value="0"]');
  expect(await cells(page, "#forward-table")).toEqual(FORWARD_SEED);
  const edges: Record<string, string[]> = {
    x: [],
    y: [],
    a: ["edge-x-a-0", "edge-y-a-1"],
    b: ["edge-x-b-0", "edge-y-b-1"],
    f: ["edge-a-f-0", "edge-b-f-1"],
  };
  for (const [i, node] of ["x", "y", "a", "b", "f"].entries()) {
    await page.click("#step-next");
    expect(await highlighted(page)).toEqual({ row: node, graph: `node-${node}` });
    expect(await activeEdges(page)).toEqual(edges[node]);
    expect(await page.textContent("#step-status")).toBe(`step ${i + 1} of 5`);
    const rows = await cells(page, "#forward-table");
    // steps not reached yet show no tangent
    for (const later of rows.slice(i + 1)) expect(later.slice(4)).toEqual(["…", "…", "…"]);
    expect(rows[i]).toEqual(FORWARD_SEED[i]);
  }
  expect(await page.textContent("#explanation")).toBe(`f = mul(a, b): f${D} = ∂f/∂a·a${D} + ∂f/∂b·b${D} = 1·1 + 5·1 = 6.`);
  expect(await page.isDisabled("#step-next")).toBe(true);
  await page.click("#step-back");
  expect(await highlighted(page)).toEqual({ row: "b", graph: "node-b" });
  // ∂/∂y: the output's tangent is −4
  await page.check('input[name="seed"][value="1"]');
  await page.click("#step-all");
  expect((await cells(page, "#forward-table")).at(-1)).toEqual([
    "f",
    "mul",
    "a, b",
    "5",
    "6",
    "-4",
    `∂f/∂a·a${D} + ∂f/∂b·b${D} = 1·1 + 5·(-1)`,
  ]);
  // a custom seed vector v = (1, 2): the tangent along it ends at 6 + 2·(−4) = −2
  await page.check('input[name="seed"][value="-1"]');
  await page.fill("#seed-y", "2");
  const along = await cells(page, "#forward-table");
  expect(along.map((r) => r[6])).toEqual(["1", "2", "3", "-1", "-2"]);
  expect(along.at(-1)![7]).toBe(`∂f/∂a·a${D} + ∂f/∂b·b${D} = 1·3 + 5·(-1)`);
  expect(await page.textContent("#forward-table caption")).toBe("Forward mode: each value carries its tangent (seed v = (1, 2))");
  await page.check('input[name="seed"][value="0"]');
}

const REVERSE_SEED = [
  ["f", "mul", "a, b", "5", "1", "seed: ∂f/∂f = 1"],
  ["b", "sub", "x, y", "1", "5", `f${B}·∂f/∂b = 1·5`],
  ["a", "add", "x, y", "5", "1", `f${B}·∂f/∂a = 1·1`],
  ["y", "input", "", "2", "-4", `a${B}·∂a/∂y + b${B}·∂b/∂y = 1·1 + 5·(-1)`],
  ["x", "input", "", "3", "6", `a${B}·∂a/∂x + b${B}·∂b/∂x = 1·1 + 5·1`],
];

/** Reverse mode: the sweep from f back to x, each adjoint the sum over its uses (x and y fan out to a and b). */
async function stepReverse(page: Page): Promise<void> {
  await page.check('input[name="mode"][value="reverse"]');
  expect(await page.isHidden("#forward-table")).toBe(true);
  await page.click("#step-reset");
  const uses: Record<string, string[]> = {
    f: [],
    b: ["edge-b-f-1"],
    a: ["edge-a-f-0"],
    y: ["edge-y-a-1", "edge-y-b-1"],
    x: ["edge-x-a-0", "edge-x-b-0"],
  };
  for (const [i, node] of ["f", "b", "a", "y", "x"].entries()) {
    if (i > 0) await page.click("#step-next");
    expect(await highlighted(page)).toEqual({ row: node, graph: `node-${node}` });
    expect(await activeEdges(page)).toEqual(uses[node]);
    const rows = await cells(page, "#reverse-table");
    for (const later of rows.slice(i + 1)) expect(later.slice(4)).toEqual(["…", "…"]);
    expect(rows[i]).toEqual(REVERSE_SEED[i]);
  }
  expect(await page.textContent("#explanation")).toBe(
    `x${B} = a${B}·∂a/∂x + b${B}·∂b/∂x = 1·1 + 5·1 = 6. x is used 2 times (by a and b): one term per use.`,
  );
  // the fan-out: x's two uses are highlighted, each edge carrying its contribution; a and b are the users
  expect(await page.$$eval("#graph g.edge.active text", (t) => t.map((e) => e.textContent))).toEqual([`x${B} += 1`, `x${B} += 5`]);
  expect(await page.$$eval("#graph g.node.source", (n) => n.map((e) => e.id).sort())).toEqual(["node-a", "node-b"]);
  expect(await page.textContent("#graph #node-x")).toContain("used 2×");
}

async function shoot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, name), fullPage: true });
}

const title = "the playground in headless Chromium";
describe.skipIf(skipReason !== undefined)(skipReason === undefined ? title : `${title} [skipped: ${skipReason}]`, () => {
  it("typing the seed and stepping both modes: cells, highlighted node and edges, f = 5, ∇f = (6, −4) by every engine", async () => {
    await onPlayground("open", async (page) => {
      await typeSeed(page);
      await stepForward(page);
      await page.click("#step-reset");
      await page.click("#step-next");
      await page.click("#step-next");
      await shoot(page, "playground-forward.png");
      await stepReverse(page);
      await shoot(page, "playground-reverse.png");
      expect(await engines(page)).toEqual({
        forward: ["5", "6", "-4", "yes"],
        reverse: ["5", "6", "-4", "yes"],
        jit: ["5", "6", "-4", "yes"],
      });
      const source = await page.textContent("#jit-source");
      expect(source).toContain("return function compiled(x0, x1) {");
      expect(source).toContain("const v2 = (x0 + x1); // v2: add");
    });
  }, 120_000);

  it("a parse error shows its caret under the column; fixing it brings everything back", async () => {
    await onPlayground("open", async (page) => {
      await typeExpression(page, "(x + y) * (x - y");
      expect(await page.isVisible("#expr-error")).toBe(true);
      expect((await page.textContent("#expr-error"))!.split("\n")).toEqual([
        'expected ")" to close the "(" at column 11, got the end of the expression at column 17',
        "(x + y) * (x - y",
        `${" ".repeat(16)}^`,
      ]);
      expect(await page.getAttribute("#expr", "aria-invalid")).toBe("true");
      await typeExpression(page, "x * $ y");
      expect((await page.textContent("#expr-error"))!.split("\n").slice(1)).toEqual(["x * $ y", "    ^"]);
      await typeExpression(page, "x * y");
      expect(await page.isHidden("#expr-error")).toBe(true);
      expect(await page.getAttribute("#expr", "aria-invalid")).toBeNull();
      expect((await engines(page))["reverse"]).toEqual(["6", "2", "3", "yes"]);
    });
  }, 60_000);

  it("bad input never breaks the page: garbage expressions and numbers are reported, then a good one works", async () => {
    await onPlayground("open", async (page) => {
      const bad = ["", "   ", "sin(", "1 + 2", "foo(x)", "x +", ")(", "x".repeat(500), "((((((((((x))))))))))".repeat(30), "max(x)"];
      for (const text of bad) {
        await page.fill("#expr", text);
        expect(await page.isVisible("#expr-error"), text).toBe(true);
      }
      await page.fill("#expr", "x / y");
      await setValue(page, "y", "0");
      expect((await engines(page))["reverse"]).toEqual(["Infinity", "Infinity", "-Infinity", "yes"]);
      await setValue(page, "x", "abc");
      expect(await page.textContent("#expr-error")).toBe('x: expected a finite number, got "abc"');
      await setValue(page, "x", "1");
      // a value beyond the slider's range [−5, 5] widens it
      await setValue(page, "y", "40");
      expect(await page.getAttribute("#value-y-slider", "max")).toBe("41");
      expect(await page.inputValue("#value-y-slider")).toBe("40");
      await setValue(page, "y", "4");
      expect(await page.isHidden("#expr-error")).toBe(true);
      expect((await engines(page))["jit"]).toEqual(["0.25", "0.25", "-0.0625", "yes"]);
    });
  }, 60_000);

  it("works with the keyboard alone: Tab to the field, type, Tab to Step, Enter; arrows switch the mode and move a slider", async () => {
    await onPlayground("open", async (page) => {
      const focused = () => page.evaluate(() => document.activeElement?.id ?? "");
      const tabTo = async (id: string) => {
        for (let i = 0; i < 40 && (await focused()) !== id; i++) await page.keyboard.press("Tab");
        expect(await focused()).toBe(id);
      };
      await tabTo("expr");
      await page.keyboard.press("Control+A");
      await page.keyboard.type("x * y + x");
      await tabTo("value-x");
      await page.keyboard.press("Control+A");
      await page.keyboard.type("3");
      await tabTo("value-x-slider");
      await page.keyboard.press("ArrowRight"); // x = 3.1
      expect(await page.inputValue("#value-x")).toBe("3.1");
      await tabTo("step-next");
      await page.keyboard.press("Enter");
      await page.keyboard.press("Enter");
      await page.keyboard.press("Enter");
      expect((await highlighted(page)).row).toBe("a");
      // forward mode's radio, then the arrow key selects reverse mode
      await page.focus('input[name="mode"][value="forward"]');
      await page.keyboard.press("ArrowRight");
      expect(await page.isChecked('input[name="mode"][value="reverse"]')).toBe(true);
      await tabTo("step-next");
      await page.keyboard.press(" ");
      expect((await highlighted(page)).row).toBe("a");
      // f = x·y + x at (3.1, 2): ∇f = (y + 1, x) = (3, 3.1)
      expect((await engines(page))["reverse"]).toEqual(["9.3", "3", "3.1", "yes"]);
    });
  }, 60_000);

  it("the guided tour: six stops from the graph to f = 5, ∇f = (6, −4), clicked through with Enter", async () => {
    await onPlayground("open", async (page) => {
      await page.fill("#expr", "exp(z)");
      await page.click("#tour-start");
      expect(await page.isVisible("#tour")).toBe(true);
      expect(await page.inputValue("#expr")).toBe(SEED);
      const seen: { title: string; row: string | null }[] = [];
      for (let i = 0; i < 6; i++) {
        seen.push({ title: (await page.textContent("#tour-title"))!, row: (await highlighted(page)).row });
        // Next has the focus: Enter presses it
        expect(await page.evaluate(() => document.activeElement?.id)).toBe("tour-next");
        await page.keyboard.press("Enter");
      }
      expect(seen.map((s) => s.row)).toEqual([null, "a", "f", "b", "x", null]);
      expect(seen[5]!.title).toBe("6. Every engine agrees");
      expect(await page.isHidden("#tour")).toBe(true);
      expect(await engines(page)).toEqual({
        forward: ["5", "6", "-4", "yes"],
        reverse: ["5", "6", "-4", "yes"],
        jit: ["5", "6", "-4", "yes"],
      });
    });
  }, 60_000);

  it("works offline once loaded: no request after the first load, new expressions and graphs with the network off", async () => {
    await onPlayground("open", async (page) => {
      await page.waitForSelector("#graph svg");
      const requests: string[] = [];
      page.on("request", (r) => requests.push(r.url()));
      await page.context().setOffline(true);
      await typeExpression(page, "sin(x) * exp(y)");
      await setValue(page, "x", "0");
      await setValue(page, "y", "0");
      await page.waitForFunction(() => document.querySelector("#graph #node-a")?.textContent?.includes("a = sin") ?? false);
      expect((await engines(page))["jit"]).toEqual(["0", "1", "0", "yes"]);
      expect(requests).toEqual([]);
    });
  }, 60_000);

  it("a CSP without 'unsafe-eval': the JIT panel says why and shows emitModule's code; forward, reverse and the graph work", async () => {
    await onPlayground("noEval", async (page) => {
      await typeSeed(page);
      await stepForward(page);
      await stepReverse(page);
      const rows = await engines(page);
      expect(rows["forward"]).toEqual(["5", "6", "-4", "yes"]);
      expect(rows["reverse"]).toEqual(["5", "6", "-4", "yes"]);
      expect(rows["jit"]).toEqual(["no result (see below)", "—"]);
      const note = await page.textContent("#jit-note");
      expect(note).toMatch(/^The JIT cannot run on this page: its Content-Security-Policy forbids eval \(no 'unsafe-eval'\)/);
      expect(note).toMatch(/Forward and reverse mode never generate code, so they work here/);
      expect(note).toMatch(/The JIT's error.*jit: expected to build the generated code with new Function, got a refusal/);
      expect(await page.textContent("#jit-source")).toMatch(
        /^\/\/ Generated by @chainrule\/jit emitModule[\s\S]*return function compiled\(x0, x1\)/,
      );
      await shoot(page, "playground-csp.png");
    });
  }, 120_000);

  it("a CSP without WebAssembly either: the graph says why, forward and reverse still step through", async () => {
    // Graphviz's Emscripten loader logs its refused WebAssembly compile
    await onPlayground(
      "strict",
      async (page) => {
        await page.waitForSelector("#graph p.error");
        expect(await page.textContent("#graph")).toMatch(/forbids \(no 'wasm-unsafe-eval'\)\. The tables show every number/);
        await page.click("#step-next");
        expect((await highlighted(page)).row).toBe("x");
        expect(await cells(page, "#forward-table")).toEqual([
          FORWARD_SEED[0],
          ...FORWARD_SEED.slice(1).map((r) => [...r.slice(0, 4), "…", "…", "…"]),
        ]);
        expect((await engines(page))["reverse"]).toEqual(["5", "6", "-4", "yes"]);
      },
      [/WebAssembly/],
    );
  }, 60_000);
});
