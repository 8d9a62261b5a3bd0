/** Bad values and paths given on the command line are usage errors (exit 2, one line), never stack traces. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli } from "./__tests__/helpers.js";
import { runCli } from "./index.js";

describe("--at accepts decimal numbers only", () => {
  it.each(["0x10", "0b1", "0o7", "", " ", "Infinity", "-Infinity", "inf", "nan", "NaN", "1_000", "1e", "--1", "١"])(
    "rejects x=%j with exit 2",
    async (text) => {
      const r = await cli("grad", "x", "--at", `x=${text}`);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      // an empty value leaves "x=" that is not name=number at all
      expect(r.stderr).toMatch(
        text.trim() === ""
          ? /grad: expected --at entries like name=number, got "x="/
          : /grad: expected a finite decimal number for x in --at \(like 3, -0\.5 or 1e-3\), got /,
      );
    },
  );
  it.each([
    ["16", 16],
    ["-0.5", -0.5],
    ["+2", 2],
    [".5", 0.5],
    ["2.", 2],
    ["1e-3", 0.001],
    ["-4E2", -400],
  ])("accepts x=%s", async (text, value) => {
    const r = await cli("grad", "x * x", "--at", `x=${text}`, "--engines", "forward");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`at x = ${value}`);
  });
});

describe("-o to a path that cannot be written", () => {
  const write = async (path: string) => {
    let stderr = "";
    const code = await runCli(["graph", "x * y", "-o", path], { stdout: () => {}, stderr: (t) => (stderr += t), color: false });
    return { code, stderr };
  };
  it("a missing folder, a directory, a file under a file: one line naming the path and the reason, exit 2", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chainrule-cli-"));
    try {
      writeFileSync(join(dir, "file"), "");
      const cases: [string, string][] = [
        [join(dir, "missing", "g.txt"), "no such file or directory (ENOENT)"],
        [dir, "illegal operation on a directory (EISDIR)"],
        [join(dir, "file", "g.txt"), "not a directory (ENOTDIR)"],
      ];
      for (const [path, reason] of cases) {
        const r = await write(path);
        expect(r.code, path).toBe(2);
        expect(r.stderr).toBe(`chainrule graph: cannot write -o ${JSON.stringify(path)}: ${reason}\n`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  it("a path that can be written is written", async () => {
    const dir = mkdtempSync(join(tmpdir(), "chainrule-cli-"));
    try {
      const r = await write(join(dir, "g.txt"));
      expect(r.code).toBe(0);
      expect(r.stderr).toBe(`wrote text graph to ${join(dir, "g.txt")}\n`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
