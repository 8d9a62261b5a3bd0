/** Debian's Chromium, driven headless by playwright-core (never a downloaded browser). */
import { existsSync } from "node:fs";
import { chromium, type Browser } from "playwright-core";

export const CHROMIUM = "/usr/bin/chromium";

/** How to install it (shown where the section cannot run). */
export const INSTALL_CHROMIUM = "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium";

export function chromiumInstalled(path: string = CHROMIUM): boolean {
  return existsSync(path);
}

/**
 * Launches Chromium headless with the flags this machine needs (no sandbox as root, closed
 * network) and none of the background throttling that would slow a page doing nothing but compute.
 */
export function launchChromium(path: string = CHROMIUM): Promise<Browser> {
  if (!chromiumInstalled(path)) throw new Error(`Debian's Chromium is missing at ${path}: ${INSTALL_CHROMIUM}`);
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
    ],
  });
}
