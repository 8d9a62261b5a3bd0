#!/usr/bin/env node
// The `chainrule` executable: runs the CLI on the process arguments and sets the exit code.
import { runCli } from "./cli.js";

process.exitCode = await runCli(process.argv.slice(2));
