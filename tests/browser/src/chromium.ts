/**
 * Debian's Chromium driven by playwright-core (never a downloaded browser), and the bundler for
 * the pages it opens: shared by the browser tests (harness.ts) and the bench's Chromium section
 * (`@chainrule/browser-tests/chromium`).
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { build, defaultClientConditions } from "vite";

export const CHROMIUM = "/usr/bin/chromium";

/** How to install it (as root; .ci/run does this when it is missing). */
export const INSTALL_CHROMIUM = "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium";

export function chromiumInstalled(path: string = CHROMIUM): boolean {
  return existsSync(path);
}

/** True in CI (`CI` set and not "false"/"0"), where the browser tests must run, never skip. */
export function inCI(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env["CI"];
  return ci !== undefined && ci !== "" && ci !== "false" && ci !== "0";
}

/**
 * Why the browser tests cannot run here, or undefined when they can. Outside CI a missing
 * Chromium skips them with this reason (it names the command that enables them); in CI the tests
 * run anyway and fail with it, so CI can never pass without them.
 */
export function browserSkipReason(path: string = CHROMIUM, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (chromiumInstalled(path) || inCI(env)) return undefined;
  return `Debian's Chromium is not installed at ${path}; enable these tests with \`sudo ${INSTALL_CHROMIUM.replace("&& ", "&& sudo ")}\``;
}

/** Throws, saying how to install it, when Chromium is missing (what the tests run first in CI). */
export function requireChromium(path: string = CHROMIUM): void {
  if (!chromiumInstalled(path)) {
    throw new Error(
      `the browser tests need Debian's Chromium at ${path}, which is missing: install it with \`${INSTALL_CHROMIUM}\` (as root)`,
    );
  }
}

/**
 * Launches Chromium headless with the flags this machine needs (no sandbox as root, a closed
 * network) and without the background throttling that would slow a page doing nothing but compute.
 */
export function launchChromium(extraArgs: readonly string[] = [], path: string = CHROMIUM): Promise<Browser> {
  if (!chromiumInstalled(path))
    throw new Error(`Debian's Chromium is missing at ${path}: install it with \`${INSTALL_CHROMIUM}\` (as root)`);
  return chromium.launch({
    executablePath: path,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-background-timer-throttling",
      "--disable-renderer-backgrounding",
      "--disable-backgrounding-occluded-windows",
      ...extraArgs,
    ],
  });
}

/**
 * Bundles `entry` into one ES module with Vite's build API, from the TypeScript sources of the
 * workspace packages (the `@chainrule/source` condition, as in every package's tests): what runs
 * in the browser is the checked-out code, no dist build.
 */
export async function bundleModule(entry: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "chainrule-browser-"));
  try {
    await build({
      configFile: false,
      root: dirname(entry),
      logLevel: "warn",
      publicDir: false,
      resolve: { conditions: ["@chainrule/source", ...defaultClientConditions] },
      build: {
        outDir: dir,
        emptyOutDir: true,
        minify: false,
        sourcemap: false,
        target: "es2022",
        reportCompressedSize: false,
        lib: { entry, formats: ["es"], fileName: () => "page.js" },
      },
    });
    return await readFile(join(dir, "page.js"), "utf8");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
