import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("..", import.meta.url));
const run = (flags: string[]) =>
  spawnSync(process.execPath, [...flags, "--import", "tsx", "--conditions=@chainrule/source", "scripts/no-eval.ts"], {
    cwd: root,
    encoding: "utf8",
  });

describe("no eval / new Function", () => {
  it("every transformation works under --disallow-code-generation-from-strings", () => {
    const result = run(["--disallow-code-generation-from-strings"]);
    expect(result.stderr).toBe("");
    expect(result.stdout.trim()).toBe("no-eval ok");
    expect(result.status).toBe(0);
  }, 60_000);

  it("the script notices when code generation is allowed (the check can fail)", () => {
    const result = run([]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("expected code generation from strings to be disallowed");
  }, 60_000);
});
