import { buildPlayground, servePlayground } from "./src/playground-harness.ts";
import { launchChromium } from "./src/chromium.ts";
const { dir, remove } = await buildPlayground();
const server = await servePlayground(dir);
const browser = await launchChromium();
for (const variant of ["open", "strict"]) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
  page.on("console", (m) => console.log(variant, "console", m.type(), m.text()));
  page.on("pageerror", (e) => console.log(variant, "pageerror", e.message));
  await page.goto(`${server.url}/${variant}/`);
  await page.waitForSelector("#graph svg", { timeout: 5000 }).catch((e) => console.log("no svg", e.message));
  await page.check('input[name="mode"][value="reverse"]');
  for (let i = 0; i < 5; i++) await page.click("#step-next");
  await page.screenshot({ path: `/tmp/pg-${variant}.png`, fullPage: true });
}
await browser.close();
await server.close();
await remove();
