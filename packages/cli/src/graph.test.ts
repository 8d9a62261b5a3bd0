import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, it } from "vitest";
import { cli } from "./__tests__/helpers.js";

const SEED = "(x + y) * (x - y)";

function expectWellFormedSvg(svg: string): void {
  expect(XMLValidator.validate(svg)).toBe(true);
  const doc = new XMLParser({ ignoreAttributes: false, ignoreDeclaration: true }).parse(svg) as Record<string, unknown>;
  const roots = Object.keys(doc).filter((k) => !k.startsWith("?") && !k.startsWith("#"));
  expect(roots).toEqual(["svg"]);
}

describe("chainrule graph", () => {
  it("prints the seed's graph as text by default", async () => {
    const r = await cli("graph", SEED);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        "graph(x: f64[], y: f64[]) {",
        "  v2: f64[] = add(x, y)",
        "  v3: f64[] = sub(x, y)",
        "  v4: f64[] = mul(v2, v3)",
        "  return v4",
        "}",
        "",
      ].join("\n"),
    );
  });

  it("draws ASCII, DOT and Mermaid", async () => {
    expect((await cli("graph", SEED, "--format", "ascii")).stdout.split("\n")[0]).toBe("v4 = mul");
    const dot = (await cli("graph", SEED, "-f", "dot")).stdout;
    expect(dot).toMatch(/^digraph /);
    expect(dot).toContain("n0 -> n2;");
    expect((await cli("graph", SEED, "--format", "mermaid")).stdout.split("\n")[0]).toBe("flowchart LR");
  });

  it("renders well-formed SVG with an <svg> root, to a file with -o", async () => {
    const r = await cli("graph", SEED, "--format", "svg", "-o", "seed.svg");
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("");
    const svg = r.files.get("seed.svg")!;
    expectWellFormedSvg(svg);
    expect(svg).toContain("v4 = mul");
  });

  it("annotates nodes with values and adjoints with --at", async () => {
    const ascii = (await cli("graph", SEED, "--format", "ascii", "--at", "x=3,y=2")).stdout;
    expect(ascii.split("\n").slice(0, 4)).toEqual([
      "v4 = mul  [value 5, adjoint 1]",
      "├── v2 = add  [value 5, adjoint 1]",
      "│   ├── x  [value 3, adjoint 6]",
      "│   └── y  [value 2, adjoint -4]",
    ]);
    expect(ascii).toContain("└── v3 = sub  [value 1, adjoint 5]");
    const text = (await cli("graph", SEED, "--at", "x=3,y=2")).stdout;
    expect(text).toMatch(/^x +input +3 +6$/m);
    expect(text).toMatch(/^y +input +2 +-4$/m);
    expect(text).toMatch(/^v4 +mul +5 +1$/m);
    const dot = (await cli("graph", SEED, "--format", "dot", "--at", "x=3,y=2")).stdout;
    expect(dot).toContain('  n1 [label="y: f64[]\\nvalue 2\\nadjoint -4", shape=ellipse];');
    expect(dot).toContain('  n3 [label="v3 = sub\\nf64[]\\nvalue 1\\nadjoint 5", shape=box];');
    const mermaid = (await cli("graph", "2*x + 1", "--format", "mermaid", "--at", "x=3")).stdout;
    expect(mermaid.split("\n").slice(1, 4)).toEqual(['  n0(["x: f64[]<br/>value 3<br/>adjoint 2"])', '  n1(["2"])', '  n3(["1"])']);
    expect(mermaid).toContain('  n4["v4 = add<br/>value 7<br/>adjoint 1"]');
    const svg = await cli("graph", SEED, "--format", "svg", "--at", "x=3", "--at", "y=2");
    expectWellFormedSvg(svg.stdout);
    expect(svg.stdout).toContain("adjoint 6");
    expect(svg.stdout).toContain("adjoint &#45;4");
  });

  it("rejects bad input with exit code 2 and a clear message", async () => {
    const parse = await cli("graph", "(x + y");
    expect(parse.code).toBe(2);
    expect(parse.stderr).toContain('expected ")" to close the "(" at column 1');
    expect(parse.stderr).toContain("  (x + y\n        ^");
    const format = await cli("graph", SEED, "--format", "png");
    expect(format.code).toBe(2);
    expect(format.stderr).toContain('expected --format to be one of text, dot, mermaid, svg, ascii, got "png"');
    const at = await cli("graph", SEED, "--at", "x=3,z=1");
    expect(at.code).toBe(2);
    expect(at.stderr).toContain("--at names z, which the expression does not use");
    const missing = await cli("graph", SEED, "--at", "x=3");
    expect(missing.stderr).toContain("expected a value for y in --at");
    const option = await cli("graph", SEED, "--colour");
    expect(option.code).toBe(2);
    expect(option.stderr).toContain("--colour");
    expect((await cli("nope")).code).toBe(2);
  });

  it("has --help with examples", async () => {
    const r = await cli("graph", "--help");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("Usage: chainrule graph EXPR");
    expect(r.stdout).toContain("Examples:");
    expect((await cli("--help")).stdout).toContain("Commands:");
    expect((await cli("--version")).stdout).toMatch(/^\d+\.\d+\.\d+/);
    for (const command of ["explain", "grad", "codegen"]) {
      const help = await cli(command, "--help");
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: chainrule ${command} EXPR`);
      expect(help.stdout).toContain(`Examples:\n  chainrule ${command} "`);
    }
  });
}, 60_000); // generous: CI runs every package's tests at once on 2 cores
