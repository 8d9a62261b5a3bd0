/**
 * Runs a script in a child `node` that resolves `@chainrule/*` to the TypeScript sources (tsx and
 * the source condition), passed with `-e` or on stdin, always as an ES module, with a timeout.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const packageDir = fileURLToPath(new URL("../..", import.meta.url));

export interface ChildRun {
  status: number | null;
  stdout: string;
  stderr: string;
  /** The child was killed by the timeout (it hung). */
  timedOut: boolean;
  milliseconds: number;
}

export function runNode(code: string, options: { flags?: readonly string[]; stdin?: boolean; timeoutMs?: number } = {}): ChildRun {
  const flags = ["--conditions=@chainrule/source", "--import", "tsx", ...(options.flags ?? []), "--input-type=module"];
  const started = performance.now();
  const run = spawnSync(process.execPath, options.stdin ? flags : [...flags, "-e", code], {
    cwd: packageDir,
    encoding: "utf8",
    timeout: options.timeoutMs ?? 60_000,
    killSignal: "SIGKILL",
    ...(options.stdin ? { input: code } : {}),
    env: { ...process.env, NODE_OPTIONS: "", NO_COLOR: "1" },
  });
  return {
    status: run.status,
    stdout: run.stdout,
    stderr: run.stderr,
    timedOut: run.error !== undefined && (run.error as NodeJS.ErrnoException).code === "ETIMEDOUT",
    milliseconds: performance.now() - started,
  };
}
