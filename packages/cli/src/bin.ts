#!/usr/bin/env node
// The `chainrule` executable: runs the CLI on the process arguments and sets the exit code.
import { runCli } from "./cli.js";

// `chainrule explain … | head` closes the pipe early: that is not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await runCli(process.argv.slice(2));
