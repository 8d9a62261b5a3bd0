import { readFileSync } from "node:fs";
import { describe, expect, it, vi } from "vitest";
import { duplicateIrError, folderOf, registerCopy, type CopyRecord, type CopyRegistry } from "./copies.js";
import { add, DuplicateIrError, tensor } from "./index.js";
import { VERSION } from "./version.js";

const KEY = Symbol.for("@chainrule/ir");

/** A copy record that counts how often it is told about a conflict. */
function record(version: string, location: string | undefined) {
  const copy = { version, location, conflicts: 0, conflict: () => void copy.conflicts++ };
  return copy;
}

describe("version.ts", () => {
  it("holds package.json's version (node scripts/write-version.mjs rewrites it)", () => {
    const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
    expect(VERSION).toBe(pkg.version);
  });
});

describe("registerCopy: the registry of loaded copies on a global object", () => {
  it("tolerates the same version from the same folder loaded again (module isolation, hot reload)", () => {
    const holder = {};
    const first = record("0.2.0", "/app/node_modules/@chainrule/ir/dist");
    const again = record("0.2.0", "/app/node_modules/@chainrule/ir/dist");
    registerCopy(holder, first);
    const registry = registerCopy(holder, again);
    expect(registry.copies).toEqual([first, again]);
    expect([first.conflicts, again.conflicts]).toEqual([0, 0]);
  });

  it("tells every copy, old and new, when another version loads", () => {
    const holder = {};
    const a = record("0.2.0", "/app/node_modules/@chainrule/ir/dist");
    const aAgain = record("0.2.0", "/app/node_modules/@chainrule/ir/dist");
    const b = record("0.1.0", "/app/node_modules/@chainrule/reverse/node_modules/@chainrule/ir/dist");
    for (const copy of [a, aAgain, b]) registerCopy(holder, copy);
    expect([a.conflicts, aAgain.conflicts, b.conflicts]).toEqual([1, 1, 1]);
  });

  it("treats the same version from another folder as another copy (its tensors are foreign too)", () => {
    const holder = {};
    const a = record("1.0.0", "/app/node_modules/@chainrule/ir/dist");
    const b = record("1.0.0", "/app/node_modules/.pnpm/@chainrule+ir@1.0.0_x/node_modules/@chainrule/ir/dist");
    registerCopy(holder, a);
    registerCopy(holder, b);
    expect([a.conflicts, b.conflicts]).toEqual([1, 1]);
  });

  it("keeps the registry under Symbol.for('@chainrule/ir') and replaces a value of another shape", () => {
    const holder: Record<symbol, unknown> = { [KEY]: "not a registry" };
    const a = record("0.2.0", "/x");
    const registry = registerCopy(holder, a);
    expect(holder[KEY]).toBe(registry);
    expect(a.conflicts).toBe(0);
  });
});

describe("the DuplicateIrError message", () => {
  const a = record("0.2.0", "/app/node_modules/@chainrule/ir/dist");
  const b = record("0.1.0", "/app/node_modules/@chainrule/reverse/node_modules/@chainrule/ir/dist");

  it("names the op, both versions and folders, which copy threw, and how to dedupe", () => {
    const error = duplicateIrError("add", [a, a, b], b);
    expect(error).toBeInstanceOf(DuplicateIrError);
    expect(error.code).toBe("DUPLICATE_IR");
    expect(error.message).toMatch(/^add: expected one copy of @chainrule\/ir in this process, got two: /);
    expect(error.message).toContain(
      "0.2.0 at /app/node_modules/@chainrule/ir/dist; " +
        "0.1.0 at /app/node_modules/@chainrule/reverse/node_modules/@chainrule/ir/dist (this error comes from it).",
    );
    expect(error.message).toContain("`npm ls @chainrule/ir`");
    expect(error.message).toContain("single top-level dependency");
    expect(error.message).toContain("`npm dedupe`");
  });

  it("says when a location is unknown", () => {
    const bundled = record("0.3.0", undefined);
    expect(duplicateIrError("grad", [a, bundled], a).message).toContain("0.3.0 at an unknown location");
  });
});

describe("folderOf: where a copy lives", () => {
  it("gives the folder of a file URL as a path, without query or hash", () => {
    expect(folderOf("file:///app/node_modules/@chainrule/ir/dist/copies.js?v=3#x")).toBe("/app/node_modules/@chainrule/ir/dist");
    expect(folderOf("file:///home/a%20b/ir/src/copies.ts")).toBe("/home/a b/ir/src");
    expect(folderOf("file:///C:/app/ir/dist/copies.js")).toBe("C:/app/ir/dist");
  });

  it("keeps other URLs and gives undefined when there is none (a CommonJS bundle)", () => {
    expect(folderOf("https://cdn.example/ir/dist/copies.js")).toBe("https://cdn.example/ir/dist/");
    expect(folderOf(undefined)).toBeUndefined();
    expect(folderOf("not a url")).toBeUndefined();
  });
});

describe("in this process", () => {
  it("the same file loaded again by the test runner is tolerated: both instances keep working", async () => {
    vi.resetModules();
    const again = (await import("./index.js")) as typeof import("./index.js");
    expect(again.add).not.toBe(add);
    expect(again.add(1, 2).item()).toBe(3);
    expect(add(tensor([1, 2]), 1).toArray()).toEqual([2, 3]);
    const copies = (globalThis as Record<symbol, CopyRegistry>)[KEY]!.copies;
    expect(copies.length).toBeGreaterThanOrEqual(2);
    expect(new Set(copies.map((c) => `${c.version} ${c.location}`)).size).toBe(1);
    expect(copies[0]!.location).toMatch(/\/packages\/ir\/src$/);
  });

  it("a copy that loads beside another version fails its first op, tensor and transformation with DuplicateIrError", async () => {
    const real = (globalThis as Record<symbol, unknown>)[KEY];
    const other: CopyRecord = { version: "9.9.9", location: "/elsewhere/@chainrule/ir/dist", conflict: () => {} };
    (globalThis as Record<symbol, unknown>)[KEY] = { copies: [other] };
    try {
      vi.resetModules();
      const second = (await import("./index.js")) as typeof import("./index.js");
      expect(() => second.add(1, 2)).toThrow(/^add: expected one copy of @chainrule\/ir in this process, got two: 9\.9\.9 at \/elsewhere/);
      expect(() => second.tensor([1, 2])).toThrow(second.DuplicateIrError);
      const toyCore = {
        name: "identity",
        jvp: () => ({ outputs: [], tangents: [] }),
        vjp: () => ({ outputs: [], pullback: () => [] }),
      };
      expect(() => second.defineEngine(toyCore).grad((x: number) => x)).toThrow(/^grad: expected one copy/);
      // the copies already loaded here were never told: the test's own registry was swapped out
      expect(add(1, 2).item()).toBe(3);
    } finally {
      (globalThis as Record<symbol, unknown>)[KEY] = real;
    }
  });
});
