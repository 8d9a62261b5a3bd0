import { build } from "esbuild";
import { describe, expect, it } from "vitest";

// A bundler that minifies renames classes; playground's Vite build showed `CodeGenerationError.name`
// as "c". Every exported error class must keep its name after minification.
/** Constructor arguments of the classes that take more than a message. */
const ARGUMENTS: Record<string, unknown[]> = {
  ChainruleError: ["INTERNAL", "message"],
  ForwardModeError: [{ fun: function rule() {} }],
};

describe("error class names survive minification", () => {
  it("each exported error class's instances are named after the class", async () => {
    const result = await build({
      entryPoints: [new URL("./index.ts", import.meta.url).pathname],
      bundle: true,
      minify: true,
      format: "esm",
      write: false,
      platform: "neutral",
      logLevel: "silent",
    });
    const code = result.outputFiles[0]?.text ?? "";
    const minified = (await import(`data:text/javascript;base64,${Buffer.from(code).toString("base64")}`)) as Record<string, unknown>;
    const names = Object.keys(minified).filter((key) => isErrorClass(minified[key]));
    expect(names).toEqual(expect.arrayContaining(["ShapeError", "CodeGenerationError", "ForwardModeError", "ChainruleError"]));
    for (const name of names) {
      const ErrorClass = minified[name] as new (...args: unknown[]) => Error;
      const instance = new ErrorClass(...(ARGUMENTS[name] ?? ["message"]));
      expect(ErrorClass.name, "the minifier did rename the class").not.toBe(name);
      expect(instance.name).toBe(name);
    }
  });
});

function isErrorClass(value: unknown): boolean {
  return typeof value === "function" && (value === Error || value.prototype instanceof Error);
}
