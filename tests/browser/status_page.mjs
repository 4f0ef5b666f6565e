// Drives the status page in Debian's headless Chromium over the DevTools protocol, through
// --remote-debugging-pipe (fd 3: commands in, fd 4: answers out, NUL-separated JSON), so it needs
// no npm package and no network. Called by tests/api/status_page.rs; also takes the README's
// screenshot.
//
//   node tests/browser/status_page.mjs <hub url> <token> [--click-retry <external id>] [--screenshot <png>]
//
// Prints one JSON object: the counts shown per object and status, the notice after the click.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [url, token, ...rest] = process.argv.slice(2);
const option = (name) => {
  const i = rest.indexOf(name);
  return i >= 0 ? rest[i + 1] : undefined;
};
const clickRetry = option("--click-retry");
const screenshot = option("--screenshot");
const chromium = process.env.CHROMIUM || "/usr/bin/chromium";

const profile = mkdtempSync(join(tmpdir(), "sluice-chromium-"));
const browser = spawn(
  chromium,
  [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--no-first-run", "--no-default-browser-check", "--remote-debugging-pipe",
    `--user-data-dir=${profile}`, "about:blank",
  ],
  { stdio: ["ignore", "ignore", "ignore", "pipe", "pipe"] },
);
const deadline = setTimeout(() => fail("timed out after 45 s"), 45_000);

function fail(message) {
  process.stderr.write(`status_page.mjs: ${message}\n`);
  browser.kill("SIGKILL");
  setTimeout(() => {
    removeProfile();
    process.exit(1);
  }, 200);
}

// Chromium may still be writing its profile as it exits; a leftover temp dir is no failure.
function removeProfile() {
  try {
    rmSync(profile, { recursive: true, force: true, maxRetries: 5 });
  } catch {}
}

let nextId = 1;
const pending = new Map();
const waiters = [];
let buffer = "";
browser.stdio[4].on("data", (chunk) => {
  buffer += chunk.toString("utf8");
  let end;
  while ((end = buffer.indexOf("\0")) >= 0) {
    const message = JSON.parse(buffer.slice(0, end));
    buffer = buffer.slice(end + 1);
    if (message.id && pending.has(message.id)) {
      const { resolve, reject } = pending.get(message.id);
      pending.delete(message.id);
      message.error ? reject(new Error(JSON.stringify(message.error))) : resolve(message.result);
    }
  }
});
let closing = false;
browser.on("exit", (code) => {
  if (!closing && pending.size) fail(`chromium exited (${code})`);
});

function send(method, params = {}, sessionId) {
  const id = nextId++;
  browser.stdio[3].write(JSON.stringify({ id, method, params, sessionId }) + "\0");
  return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const { targetId } = await send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true });
  const page = (method, params) => send(method, params, sessionId);
  const evaluate = async (expression) => {
    const { result, exceptionDetails } = await page("Runtime.evaluate", {
      expression, returnByValue: true, awaitPromise: true,
    });
    if (exceptionDetails) throw new Error(exceptionDetails.text + " in " + expression);
    return result.value;
  };
  // Waits until the page at `path` has loaded (navigations started by clicks included).
  const loaded = async (path, extra = "true") => {
    for (let i = 0; i < 200; i++) {
      const ok = await evaluate(
        `location.pathname === ${JSON.stringify(path)} && document.readyState === "complete" && (${extra})`,
      ).catch(() => false);
      if (ok) return;
      await sleep(50);
    }
    const at = await evaluate(`location.href + ": " + document.body.innerText.slice(0, 300)`);
    throw new Error(`page ${path} did not load; at ${at}`);
  };
  await page("Emulation.setDeviceMetricsOverride", { width: 1366, height: 800, deviceScaleFactor: 1, mobile: false });

  await page("Page.navigate", { url: `${url}/admin/login` });
  await loaded("/admin/login");
  await evaluate(`document.querySelector("textarea[name=token]").value = ${JSON.stringify(token)};
                  document.querySelector("form button").click(); true`);
  await loaded("/admin", `!!document.querySelector("#objects")`);

  const counts = `(() => { const out = {};
      for (const td of document.querySelectorAll("td[data-object][data-status]")) {
        (out[td.dataset.object] ??= {})[td.dataset.status] = Number(td.textContent.replace(/,/g, ""));
      }
      return out; })()`;
  const report = { title: await evaluate("document.title"), before: await evaluate(counts) };
  report.failures = await evaluate(`[...document.querySelectorAll("tr[data-external-id]")].map(r => r.dataset.externalId)`);

  if (clickRetry) {
    const selector = `button[data-action=retry][data-external-id=${JSON.stringify(clickRetry)}]`;
    const found = await evaluate(`(() => { const b = document.querySelector(${JSON.stringify(selector)});
        if (!b) return false; b.click(); return true; })()`);
    if (!found) throw new Error(`no retry button for ${clickRetry}`);
    await loaded("/admin", `!!document.querySelector("#notice")`);
    report.notice = await evaluate(`document.querySelector("#notice").textContent`);
    report.after = await evaluate(counts);
  }
  if (screenshot) {
    const { cssContentSize } = await page("Page.getLayoutMetrics");
    const height = Math.ceil(cssContentSize.height);
    await page("Emulation.setDeviceMetricsOverride", { width: 1366, height, deviceScaleFactor: 1, mobile: false });
    const { data } = await page("Page.captureScreenshot", { format: "png" });
    writeFileSync(screenshot, Buffer.from(data, "base64"));
  }
  process.stdout.write(JSON.stringify(report) + "\n");
}

main()
  .then(async () => {
    clearTimeout(deadline);
    closing = true;
    const exited = new Promise((resolve) => browser.once("exit", resolve));
    send("Browser.close").catch(() => {});
    await Promise.race([exited, sleep(3000)]);
    browser.kill("SIGKILL");
    removeProfile();
  })
  .catch((e) => fail(e.stack || String(e)));
