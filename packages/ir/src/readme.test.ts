import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as ir from "./index.js";

describe("README example", () => {
  it("runs as printed and gives the values its comments state", () => {
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const code = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
    const body = code.replace(/^import .*\n/m, "");
    const logged: string[] = [];
    const results: unknown[] = [];
    // each top-level expression statement's value is recorded, in order
    const instrumented = body
      .split("\n")
      .map((line) => line.replace(/\/\/.*$/, "").trim())
      .filter((line) => line.length > 0)
      .map((line) => (/^(const|console)/.test(line) ? line : `results.push(${line.replace(/;$/, "")});`))
      .join("\n");
    const names = Object.keys(ir);
    new Function(...names, "console", "results", instrumented)(
      ...names.map((n) => (ir as Record<string, unknown>)[n]),
      { log: (s: string) => logged.push(s) },
      results,
    );
    expect(results).toEqual([5, 84]);
    expect(logged[0]).toContain("v2: f64[] = add(x, y)");
    expect(logged[1]!.startsWith("v4 = mul\n├── v2 = add")).toBe(true);
  });
});
