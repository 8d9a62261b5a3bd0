/**
 * Building functions from generated source (`new Function`): the one place the JIT evaluates
 * code, so the one place a host that refuses it (a Content-Security-Policy without
 * 'unsafe-eval', `node --disallow-code-generation-from-strings`) is turned into an error that says
 * what happened and what to use instead.
 */
import { CodeGenerationError } from "@chainrule/ir";

/** Why the JIT cannot run here and the ways out (the message of the CodeGenerationError). */
export function codeGenerationRefused(cause: unknown): string {
  // one line: a browser's EvalError message ends with a newline
  const detail = (cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)).replace(/\s+/g, " ").trim();
  return (
    "jit: expected to build the generated code with new Function, got a refusal from this environment " +
    `(${detail}): a Content-Security-Policy without 'unsafe-eval', or node --disallow-code-generation-from-strings. ` +
    "Ways out: generate the code at build time with emitModule(f, exampleArgs) and ship the module (no eval at run time); " +
    "use @chainrule/forward or @chainrule/reverse, which never generate code; " +
    "or use the interpreter exported by @chainrule/jit (the same transformations, interpreted, nothing compiled)."
  );
}

function isEvalError(error: unknown): boolean {
  // by name too: an EvalError of another realm (an iframe, a vm context) is not `instanceof` ours
  return error instanceof EvalError || (error instanceof Error && error.name === "EvalError");
}

/** `new Function(...params, body)`; a host's refusal becomes a CodeGenerationError. */
export function buildFunction(params: readonly string[], body: string): (...args: unknown[]) => unknown {
  try {
    return new Function(...params, body) as (...args: unknown[]) => unknown;
  } catch (error) {
    if (isEvalError(error)) throw new CodeGenerationError(codeGenerationRefused(error));
    throw error;
  }
}
