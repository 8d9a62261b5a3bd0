// Test helper (not exported from index.ts): runs the CLI in-process and captures its output.
import { runCli } from "../cli.js";

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly files: Map<string, string>;
}

export async function cli(...argv: string[]): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const files = new Map<string, string>();
  const code = await runCli(argv, {
    stdout: (t) => (stdout += t),
    stderr: (t) => (stderr += t),
    color: false,
    writeFile: (path, content) => files.set(path, content),
  });
  return { code, stdout, stderr, files };
}
