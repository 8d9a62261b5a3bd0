#!/usr/bin/env node
// Make the pinned pnpm available, install the workspace, then (optionally) run a command.
//
// Needs only Node and npm. The pnpm version is the one in the root package.json
// "packageManager" field. If `pnpm --version` on PATH is not exactly that version, the script
// installs it with npm into the project-local, git-ignored prefix `.tools/` and puts
// `.tools/bin` first on PATH for everything it runs.
//
// Usage:
//   node scripts/setup.mjs                          ensure pnpm, then `pnpm install`
//   node scripts/setup.mjs -- CMD [ARGS...]         ... then run CMD with the pinned pnpm and
//                                                   node_modules/.bin first on PATH
//   node scripts/setup.mjs --no-install -- CMD ...  ensure pnpm only, then run CMD
//   node scripts/setup.mjs --browser -- CMD ...     ... and first make sure Debian's Chromium is there for
//                                                   the browser tests (what `npm test` does; below)
//   node scripts/setup.mjs --print-path             ensure pnpm, print the PATH to use (for shell
//                                                   scripts: export PATH="$(node scripts/setup.mjs --no-install --print-path)")
//
// In CI (CI set and not "false"/"0") the install is `pnpm install --frozen-lockfile`.
//
// --browser: the browser tests (tests/browser, bench's Chromium section) drive Debian's Chromium at
// /usr/bin/chromium. When it is missing and this runs as root with apt-get (and
// CHAINRULE_NO_APT is unset), it is installed with `apt-get install -y chromium`. Otherwise the
// browser tests are skipped with the reason and the command that enables them, except in CI,
// where they fail: CI never passes without them.
// The environment is passed through untouched (npm here needs NODE_EXTRA_CA_CERTS); only
// PATH is extended and a few opt-out variables are added when not already set.
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const win = process.platform === "win32";

const argv = process.argv.slice(2);
const dashdash = argv.indexOf("--");
const flags = dashdash === -1 ? argv : argv.slice(0, dashdash);
const command = dashdash === -1 ? [] : argv.slice(dashdash + 1);
const noInstall = flags.includes("--no-install");
const printPath = flags.includes("--print-path");
const browser = flags.includes("--browser");
const unknown = flags.filter((f) => f !== "--no-install" && f !== "--print-path" && f !== "--browser");
if (unknown.length > 0) {
  fail(`unknown option(s) ${unknown.join(" ")}; usage: node scripts/setup.mjs [--no-install] [--print-path] [--browser] [-- CMD ARGS...]`);
}

const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const match = /^pnpm@(\d+\.\d+\.\d+)$/.exec(pkg.packageManager ?? "");
if (!match) fail(`package.json "packageManager" must be "pnpm@X.Y.Z", got ${JSON.stringify(pkg.packageManager)}`);
const wanted = match[1];

const ciValue = process.env.CI;
const isCI = ciValue !== undefined && ciValue !== "" && ciValue !== "false" && ciValue !== "0";

const toolsDir = join(root, ".tools");
const toolsBin = win ? toolsDir : join(toolsDir, "bin");
const localPnpm = join(toolsBin, win ? "pnpm.cmd" : "pnpm");

// Environment for everything we run: the caller's, plus opt-outs that avoid prompts and
// network calls that cannot succeed here. Corepack cannot verify pnpm's signature against the
// registry mirror (no signing keys served), so a corepack shim needs COREPACK_INTEGRITY_KEYS=0.
const env = { ...process.env };
setDefault("COREPACK_ENABLE_DOWNLOAD_PROMPT", "0");
setDefault("COREPACK_INTEGRITY_KEYS", "0");
setDefault("TURBO_TELEMETRY_DISABLED", "1");
setDefault("TURBO_NO_UPDATE_NOTIFIER", "1");

// 1. pnpm: the one on PATH if it is exactly the pinned version, else .tools/.
const usedLocal = ensurePnpm();
const pathParts = [];
if (usedLocal) pathParts.push(toolsBin);
pathParts.push(join(root, "node_modules", ".bin"));
const pathKey = Object.keys(env).find((k) => k.toUpperCase() === "PATH") ?? "PATH";
env[pathKey] = [...pathParts, env[pathKey] ?? ""].filter(Boolean).join(delimiter);

// 2. install.
if (!noInstall) {
  const installArgs = ["install"];
  if (isCI) installArgs.push("--frozen-lockfile");
  log(`pnpm ${installArgs.join(" ")}`);
  const r = run("pnpm", installArgs, { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) fail(`pnpm ${installArgs.join(" ")} failed (exit ${r.status ?? r.signal})`);
}

// 3. Chromium for the browser tests, where this machine allows it.
if (browser) ensureChromium();

// 4. what the caller asked for.
if (printPath) process.stdout.write(`${env[pathKey]}\n`);
if (command.length > 0) {
  const [cmd, ...args] = command;
  const r = run(cmd, args, { stdio: "inherit", cwd: process.cwd() });
  if (r.error) fail(`could not run ${cmd}: ${r.error.message}`);
  process.exit(r.status ?? 1);
}

function ensurePnpm() {
  const onPath = versionOf("pnpm");
  if (onPath === wanted) {
    log(`using pnpm ${wanted} from PATH`);
    return false;
  }
  if (existsSync(localPnpm) && versionOf(localPnpm) === wanted) {
    log(`using pnpm ${wanted} from .tools/ (PATH has ${onPath ?? "none"})`);
    return true;
  }
  log(`pnpm on PATH is ${onPath ?? "missing"}, want ${wanted}: installing pnpm@${wanted} into .tools/ with npm`);
  const r = run("npm", ["install", "--global", "--prefix", toolsDir, `pnpm@${wanted}`, "--no-audit", "--no-fund", "--loglevel=error"], {
    stdio: ["ignore", "inherit", "inherit"],
  });
  if (r.status !== 0) fail(`npm install pnpm@${wanted} into .tools/ failed (exit ${r.status ?? r.signal})`);
  const got = versionOf(localPnpm);
  if (got !== wanted) fail(`.tools/ pnpm reports version ${got ?? "nothing"}, want ${wanted}`);
  return true;
}

function ensureChromium() {
  const chromium = "/usr/bin/chromium";
  if (existsSync(chromium)) return;
  const command = "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium";
  const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
  const hasApt = !win && spawnSync("apt-get", ["--version"], { stdio: "ignore" }).status === 0;
  if (env.CHAINRULE_NO_APT || !isRoot || !hasApt) {
    const why = env.CHAINRULE_NO_APT ? "CHAINRULE_NO_APT is set" : !hasApt ? "apt-get is not available" : "this is not running as root";
    log(
      `Debian's Chromium is missing at ${chromium} and ${why}: the browser tests will be ${isCI ? "FAILED (CI)" : "skipped"}; ` +
        `enable them with \`sudo ${command.replace("&& ", "&& sudo ")}\``,
    );
    return;
  }
  log(`Debian's Chromium is missing at ${chromium}: installing it for the browser tests (${command}; set CHAINRULE_NO_APT=1 to skip)`);
  const aptEnv = { ...env, DEBIAN_FRONTEND: "noninteractive" };
  const update = spawnSync("apt-get", ["update"], { env: aptEnv, stdio: ["ignore", "inherit", "inherit"] });
  const install =
    update.status === 0
      ? spawnSync("apt-get", ["install", "-y", "chromium"], { env: aptEnv, stdio: ["ignore", "inherit", "inherit"] })
      : update;
  if (install.status !== 0 || !existsSync(chromium)) {
    log(
      `could not install Chromium (apt-get exit ${install.status ?? install.signal}): the browser tests will be ` +
        `${isCI ? "FAILED (CI)" : "skipped"}`,
    );
  }
}

function versionOf(bin) {
  const r = spawnSync(bin, ["--version"], {
    cwd: root,
    env,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: 120_000,
    shell: win,
  });
  if (r.error || r.status !== 0) return null;
  const lines = r.stdout.trim().split(/\r?\n/);
  return (lines[lines.length - 1] ?? "").trim() || null;
}

function run(cmd, args, options) {
  return spawnSync(cmd, args, { cwd: root, env, shell: win, ...options });
}

function setDefault(key, value) {
  if (env[key] === undefined) env[key] = value;
}

function log(message) {
  console.error(`[setup] ${message}`);
}

function fail(message) {
  console.error(`[setup] error: ${message}`);
  process.exit(1);
}
