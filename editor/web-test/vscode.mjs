// The extension in a real VS Code: code-server (VS Code for the browser, from
// npm) with the packed extension installed, driven by Debian's Chromium
// through playwright-core. It opens a copy of examples/fashion.pipe, checks
// that names are coloured, makes an error and sees its squiggle and message,
// applies the quick fix, hovers a built-in, completes a parameter, and saves
// screenshots. code-server listens on 127.0.0.1 only and is stopped at the end.
//
//   node vscode.mjs PIPE VSIX OUT_DIR     (scripts/test-vscode runs it)
import { spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { chromium } from "playwright-core";

const [pipe, vsix, out] = process.argv.slice(2);
if (!pipe || !vsix || !out) {
  console.error("usage: node vscode.mjs PIPE VSIX OUT_DIR");
  process.exit(2);
}
const here = path.dirname(new URL(import.meta.url).pathname);
const repo = path.resolve(here, "../..");
const codeServer = path.join(here, "node_modules/.bin/code-server");
const chromiumPath = process.env.CHROMIUM || "/usr/bin/chromium";

const root = fs.mkdtempSync(path.join(os.tmpdir(), "pipe-vscode-"));
const user = path.join(root, "user"), extensions = path.join(root, "extensions"), work = path.join(root, "work");
fs.mkdirSync(path.join(user, "User"), { recursive: true });
fs.mkdirSync(work);
fs.mkdirSync(out, { recursive: true });
fs.copyFileSync(path.join(repo, "examples/fashion.pipe"), path.join(work, "fashion.pipe"));
fs.writeFileSync(path.join(user, "User/settings.json"), JSON.stringify({
  "pipe.path": pipe,
  "security.workspace.trust.enabled": false,
  "workbench.startupEditor": "none",
  "workbench.colorTheme": "Default Dark Modern",
  "editor.semanticHighlighting.enabled": true,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoCheckUpdates": false,
  "workbench.tips.enabled": false,
  "editor.minimap.enabled": false,
  "editor.hover.delay": 100,
  "window.commandCenter": false,
}));

let checks = 0;
function ok(condition, what) {
  if (!condition) throw new Error("failed: " + what);
  console.log("  ok  " + what);
  ++checks;
}

function run(args) {
  return new Promise((resolve, reject) => {
    const p = spawn(codeServer, args, { stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    p.stdout.on("data", (d) => (text += d));
    p.stderr.on("data", (d) => (text += d));
    p.on("exit", (code) => (code === 0 ? resolve(text) : reject(new Error(args.join(" ") + ": " + text))));
  });
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function until(what, test, ms = 30000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await test();
    if (value) return value;
    if (Date.now() > end) throw new Error("timed out waiting for " + what);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const common = ["--user-data-dir", user, "--extensions-dir", extensions];
await run([...common, "--install-extension", vsix]);
const port = await freePort();
const server = spawn(codeServer, [...common, "--bind-addr", `127.0.0.1:${port}`, "--auth", "none",
  "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust", work],
  { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, XDG_CONFIG_HOME: path.join(root, "config") } });
let serverLog = "";
server.stdout.on("data", (d) => (serverLog += d));
server.stderr.on("data", (d) => (serverLog += d));

let browser;
try {
  await until("code-server to listen", () => serverLog.includes("HTTP server listening"), 60000);
  browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox", "--disable-gpu"] });
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(work)}`);
  await page.waitForSelector(".monaco-workbench", { timeout: 60000 });
  // Open the file from the explorer.
  const item = page.locator(".explorer-folders-view .monaco-list-row", { hasText: "fashion.pipe" });
  await item.waitFor({ timeout: 60000 });
  await item.click();
  await page.waitForSelector(".view-lines .view-line", { timeout: 20000 });
  ok(await page.$eval(".view-lines", (e) => e.textContent.includes("backbone")), "fashion.pipe opens in VS Code");

  // Colours: the grammar's and the language server's semantic tokens.
  const colours = async () => page.$$eval(".view-lines .view-line span span", (spans) =>
    spans.map((s) => [s.textContent.trim(), getComputedStyle(s).color]).filter(([t]) => t));
  const colourOf = async (word) => (await colours()).find(([t]) => t === word)?.[1];
  // Wait for the very words compared: four colours on screen can come before
  // the first line's `data` is drawn (CI met that once the files grew).
  await until("the names to be coloured", async () =>
    new Set((await colours()).map(([, c]) => c)).size >= 4 && (await colourOf("data")) !== undefined &&
    ((await colourOf("cnn")) ?? (await colourOf("adamw"))) !== undefined);
  const keyword = await colourOf("data"), builtin = await colourOf("cnn") ?? await colourOf("adamw");
  ok(keyword && builtin && keyword !== builtin, `a keyword (${keyword}) and a built-in (${builtin}) differ in colour`);
  await page.screenshot({ path: path.join(out, "vscode-colours.png") });

  // An error as you type: `adamw` made `adamx`.
  // Find selects the word; typing replaces it.
  await page.keyboard.press("Control+F");
  await page.keyboard.type("adamw");
  await page.keyboard.press("Enter");
  await page.keyboard.press("Escape");
  await page.keyboard.type("adamx");
  await until("the squiggle", async () => (await page.$(".squiggly-error")) !== null);
  ok(true, "an unknown optimizer is underlined as an error");
  // The next problem, shown inline; asked again until the checker has seen the whole word.
  const message = await until("the problem's message", async () => {
    await page.keyboard.press("Escape");
    await page.keyboard.press("F8");
    await page.waitForTimeout(300);
    const text = await page.$eval(".marker-widget", (e) => e.textContent).catch(() => "");
    return text.includes("adamx") ? text : "";
  });
  ok(message.includes("unknown optimizer `adamx`") && message.includes("did you mean `adamw`"),
    "its message is the checker's, hint included");
  await page.screenshot({ path: path.join(out, "vscode-error.png") });
  await page.keyboard.press("Escape");

  // The quick fix.
  await page.keyboard.press("Control+.");
  await page.waitForSelector(".action-widget", { timeout: 15000 });
  ok(await page.$eval(".action-widget", (e) => e.textContent.includes("Change `adamx` to `adamw`")),
    "the quick fix is offered");
  await page.keyboard.press("Enter");
  await until("the fix to be applied", async () =>
    page.$eval(".view-lines", (e) => e.textContent.includes("adamw(") && !e.textContent.includes("adamx")));
  await until("the squiggle to go", async () => (await page.$(".squiggly-error")) === null);
  ok(true, "applied, the file checks again");

  // Hover a built-in.
  const cnn = page.locator(".view-lines span", { hasText: /^cnn$/ }).first();
  await cnn.hover();
  const hover = await until("the hover", async () => {
    const text = await page.$$eval(".monaco-hover", (all) => all.map((e) => e.textContent).join(" "));
    return text.includes("A plain convolutional net") ? text : "";
  });
  ok(hover.includes("channels"), "hovering `cnn` shows its documentation from the registry");
  await page.screenshot({ path: path.join(out, "vscode-hover.png") });
  await page.mouse.move(5, 5);

  // Complete a parameter inside adamw(...).
  await page.keyboard.press("Control+F");
  await page.keyboard.type("adamw(");
  await page.keyboard.press("Enter");
  await page.keyboard.press("Escape");
  await page.keyboard.press("ArrowRight");  // the found `adamw(` deselected: the cursor after `(`
  await page.keyboard.type("weight_de");
  await page.keyboard.press("Control+Space");
  const suggestions = await until("the suggestions", async () => {
    const text = await page.$$eval(".suggest-widget", (all) => all.map((e) => e.textContent).join(" "));
    return text.includes("weight_decay") ? text : "";
  });
  ok(suggestions.includes("weight_decay"), "completion inside adamw( offers weight_decay");
  await page.screenshot({ path: path.join(out, "vscode-completion.png") });
  console.log(`vscode: ${checks} checks passed in a real VS Code (code-server) with Chromium`);
} catch (e) {
  console.error(e.message);
  if (browser) {
    const pages = browser.contexts().flatMap((c) => c.pages());
    if (pages.length) await pages[0].screenshot({ path: path.join(out, "vscode-failure.png") }).catch(() => {});
  }
  console.error("code-server said:\n" + serverLog.slice(-3000));
  process.exitCode = 1;
} finally {
  if (browser) await browser.close();
  server.kill("SIGTERM");
  fs.rmSync(root, { recursive: true, force: true });
}
