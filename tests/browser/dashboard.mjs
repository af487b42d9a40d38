// Drives the dashboard of a running Sori in Debian's Chromium (playwright-core, no browser
// download): the live state, a typed command and its answer, the run history, the mute button.
// Usage: node dashboard.mjs BASE_URL SCREENSHOT.png   (NODE_PATH: where playwright-core is)
import { createRequire } from "node:module";
const require = createRequire(import.meta.url);
const { chromium } = require("playwright-core");

const [base, shot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
const fail = async (msg) => { console.error("FAIL: " + msg); await browser.close(); process.exit(1); };
try {
  const page = await browser.newPage({ viewport: { width: 1100, height: 800 } });
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(base + "/", { waitUntil: "load" });
  await page.waitForFunction(() => document.querySelector("#wake").textContent.includes("hey_jarvis"));
  const state = await page.textContent("#state");
  if (state !== "idle") await fail(`state shows ${state}, not idle`);

  await page.fill("#text", "what time is it");
  await page.click("#ask button");
  await page.waitForFunction(() => document.querySelector("#reply").textContent.startsWith("It's"), null, { timeout: 30000 });
  const reply = await page.textContent("#reply");
  // The run shows up in the history table once it has ended.
  await page.waitForFunction(() => [...document.querySelectorAll("#runs tr")]
    .some((tr) => tr.textContent.includes("what time is it")), null, { timeout: 30000 });

  await page.click("#mute");
  await page.waitForFunction(() => document.querySelector("#mute").textContent === "Unmute microphone", null, { timeout: 10000 });
  await page.waitForFunction(() => document.querySelector("#state").textContent === "muted", null, { timeout: 10000 });
  await page.screenshot({ path: shot, fullPage: true });
  await page.click("#mute");
  await page.waitForFunction(() => document.querySelector("#mute").textContent === "Mute microphone", null, { timeout: 10000 });
  if (errors.length) await fail("page errors: " + errors.join("; "));
  console.log(JSON.stringify({ reply, rows: await page.$$eval("#runs tr", (r) => r.length) }));
} catch (e) {
  await fail(e.stack || String(e));
}
await browser.close();
