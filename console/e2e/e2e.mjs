// End to end: the console served by a real `maxiofs up`, driven in the system Chromium
// (CHROMIUM, default /usr/bin/chromium; never a downloaded browser) at 1280x800.
// tests/compat/test_console.py starts the server and runs this; by hand:
//
//   CONSOLE_URL=http://127.0.0.1:9001 ROOT_USER=... ROOT_PASSWORD=... node e2e/e2e.mjs
//
// Optional: TOTP_USER, TOTP_PASSWORD, TOTP_SECRET (base32) for the 2FA login; BIG_BUCKET, a
// bucket of 2000 keys anyone may list, to time the object browser's pages.
// Screenshots go to SCREENSHOT_DIR (default target/console-screenshots). Fails on any error
// in the browser's console log or any uncaught page error. Prints one JSON line at the end.
import { createHash, createHmac } from "node:crypto";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const base = process.env.CONSOLE_URL ?? "http://127.0.0.1:9001";
const shots = process.env.SCREENSHOT_DIR ?? "target/console-screenshots";
const suffix = Math.random().toString(16).slice(2, 8);
const bucket = `e2e-photos-${suffix}`;
const username = `e2e-user-${suffix}`;
const tenant = `e2e-tenant-${suffix}`;
const policy = `e2e-policy-${suffix}`;
const group = `e2e-group-${suffix}`;
mkdirSync(shots, { recursive: true });

/** RFC 6238 (SHA-1, 6 digits, 30 s), what an authenticator app shows `offset` steps ahead. */
function totp(secret, offset = 0) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const char of secret.replace(/=+$/, "").toUpperCase()) {
    bits += alphabet.indexOf(char).toString(2).padStart(5, "0");
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((byte) => parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000) + offset));
  const digest = createHmac("sha1", key).update(counter).digest();
  const at = digest[digest.length - 1] & 0x0f;
  const value = (digest.readUInt32BE(at) & 0x7fffffff) % 1_000_000;
  return String(value).padStart(6, "0");
}

const errors = [];
const steps = [];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  // Root in CI: Chromium's sandbox needs an unprivileged user.
  args: ["--no-sandbox"],
  timeout: 60_000,
});
const context = await browser.newContext({
  viewport: { width: 1280, height: 800 },
  permissions: ["clipboard-read", "clipboard-write"],
});
const page = await context.newPage();
page.setDefaultTimeout(15_000);
page.on("console", (message) => {
  if (message.type() === "error") errors.push(`console: ${message.text()}`);
});
page.on("pageerror", (error) => errors.push(`page: ${error.message}`));

async function step(name, action) {
  const started = Date.now();
  try {
    await action();
  } catch (error) {
    await page.screenshot({ path: join(shots, `FAILED-${name}.png`) }).catch(() => {});
    throw new Error(`step ${name}: ${error.message}`);
  }
  steps.push({ name, ms: Date.now() - started });
}

const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`) });
const nav = (label) =>
  page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: label });

async function login(user, password) {
  await page.getByLabel("User name or access key").fill(user);
  await page.getByLabel("Password or secret key").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

// The first load's JavaScript as sent (gzip): issue 18 keeps it under 300 KiB.
const FIRST_LOAD_JS_MAX = 300 * 1024;
const firstLoad = { scripts: 0, bytes: 0 };
const countScript = (response) => {
  if (!response.url().endsWith(".js")) return;
  firstLoad.scripts += 1;
  firstLoad.bytes += Number(response.headers()["content-length"] ?? 0);
};

let created = {};
try {
  await step("login", async () => {
    page.on("response", countScript);
    const started = Date.now();
    await page.goto(`${base}/`);
    await page.waitForURL("**/login");
    await page.getByRole("heading", { name: "MaxIOFS" }).waitFor();
    firstLoad.interactiveMs = Date.now() - started;
    page.off("response", countScript);
    if (firstLoad.bytes === 0 || firstLoad.bytes > FIRST_LOAD_JS_MAX) {
      throw new Error(`first load: ${firstLoad.bytes} bytes of JavaScript`);
    }
    await shot("01-login");
    await login(process.env.ROOT_USER, process.env.ROOT_PASSWORD);
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    await page.getByTestId("stat-Buckets").waitFor();
    await shot("02-dashboard");
  });

  await step("create-bucket", async () => {
    await nav("Buckets").click();
    await page.getByRole("heading", { name: "Buckets" }).waitFor();
    await page.getByRole("button", { name: "Create bucket" }).first().click();
    const dialog = page.getByRole("dialog", { name: "Create bucket" });
    await dialog.getByLabel("Name").fill(bucket);
    await dialog.getByRole("switch", { name: "Versioning" }).click();
    await shot("03-create-bucket");
    await dialog.getByRole("button", { name: "Create bucket" }).click();
    await page.getByRole("link", { name: bucket, exact: true }).waitFor();
    await dialog.waitFor({ state: "detached" });
    await shot("04-buckets");
  });

  await step("bucket-settings", async () => {
    await page.getByRole("link", { name: bucket, exact: true }).click();
    await page.getByRole("heading", { name: bucket }).waitFor();
    await page.getByRole("tab", { name: "Versioning" }).click();
    const status = page.getByTestId("versioning-status");
    await status.waitFor();
    if ((await status.textContent()) !== "Enabled") throw new Error("versioning not Enabled");
    await shot("05-bucket-versioning");
    await page.getByRole("tab", { name: "Lifecycle" }).click();
    await page.getByRole("button", { name: "Add rule" }).click();
    const dialog = page.getByRole("dialog", { name: "Add lifecycle rule" });
    await dialog.getByLabel("Key prefix").fill("logs/");
    await dialog.getByLabel("Expire current versions after (days)").fill("30");
    await dialog.getByRole("button", { name: "Add rule" }).click();
    await page.getByRole("table", { name: "Lifecycle rules" }).getByText("logs/").waitFor();
    await shot("06-bucket-lifecycle");
    await page.getByRole("tab", { name: "Object Lock" }).click();
    await page.getByText("Object Lock:").waitFor();
    await shot("07-bucket-object-lock");
    // A deep link survives a reload: the admin answers index.html for console routes.
    await page.reload();
    await page.getByRole("heading", { name: bucket }).waitFor();
  });

  await step("bucket-cors-policy-tags", async () => {
    await page.getByRole("tab", { name: "CORS" }).click();
    await page.getByRole("button", { name: "Add CORS rule" }).click();
    const rule = page.getByRole("group", { name: "CORS rule 1" });
    await rule.getByLabel("Allowed origins").fill("https://app.example.com");
    await rule.getByRole("checkbox", { name: "PUT" }).check();
    await rule.getByLabel("Max age (seconds)").fill("600");
    await page.getByRole("button", { name: "Save CORS" }).click();
    await page.getByTestId("toast-success").getByText("CORS saved").waitFor();
    await shot("25-bucket-cors");
    await page.getByRole("tab", { name: "Policy" }).click();
    await page.getByLabel("Bucket policy (JSON)").waitFor();
    await page.getByRole("button", { name: "Save policy" }).click();
    await page.getByTestId("toast-success").getByText("Policy saved").waitFor();
    await page.getByRole("button", { name: "Delete policy" }).waitFor();
    await shot("26-bucket-policy");
    await page.getByRole("tab", { name: "Tags" }).click();
    await page.getByRole("button", { name: "Add tag" }).click();
    await page.getByLabel("Tag 1 key").fill("team");
    await page.getByLabel("Tag 1 value").fill("photos");
    await page.getByRole("button", { name: "Save tags" }).click();
    await page.getByTestId("toast-success").getByText("Tags saved").waitFor();
    await shot("27-bucket-tags");
  });

  await step("users-and-keys", async () => {
    await nav("Users & keys").click();
    await page.getByRole("heading", { name: "Users & access keys" }).waitFor();
    await page.getByRole("button", { name: "Create user" }).first().click();
    const dialog = page.getByRole("dialog", { name: "Create user" });
    await dialog.getByLabel("User name").fill(username);
    await dialog.getByLabel("Password").fill("Correct-Horse-9");
    await dialog.getByRole("button", { name: "Create user" }).click();
    await page.getByRole("table", { name: "Users" }).getByText(username, { exact: true }).waitFor();
    await page.getByRole("button", { name: `Create access key for ${username}` }).click();
    const keyDialog = page.getByRole("dialog", { name: "Access key created" });
    const accessKey = await keyDialog.getByTestId("new-access-key").textContent();
    const secretKey = await keyDialog.getByTestId("new-secret-key").textContent();
    await keyDialog.getByRole("button", { name: "Copy" }).nth(1).click();
    await keyDialog.getByRole("button", { name: "Copied" }).waitFor();
    await shot("08-access-key-created");
    await keyDialog.getByRole("button", { name: "I have saved the secret" }).click();
    await page.getByRole("table", { name: "Access keys" }).getByText(accessKey).waitFor();
    await shot("09-users");
    created = { bucket, username, accessKey, secretKey };
  });

  await step("audit-log", async () => {
    await nav("Audit log").click();
    await page.getByRole("heading", { name: "Audit log" }).waitFor();
    const table = page.getByRole("table", { name: "Audit entries" });
    await table.getByText("user_created").first().waitFor();
    await page.getByLabel("Event").fill("bucket_created");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await page.waitForURL("**/audit?event_type=bucket_created");
    await table.getByText(bucket).first().waitFor();
    const events = await table.locator("tbody tr td:nth-child(2)").allTextContents();
    if (events.length === 0 || events.some((event) => event !== "bucket_created")) {
      throw new Error(`filter not applied: ${events}`);
    }
    await shot("10-audit");
    const download = page.waitForEvent("download");
    await page.getByRole("button", { name: "Export CSV" }).click();
    const file = await download;
    created.csv = file.suggestedFilename();
  });

  await step("delete-bucket", async () => {
    const doomed = `e2e-doomed-${suffix}`;
    await nav("Buckets").click();
    await page.getByRole("button", { name: "Create bucket" }).first().click();
    const dialog = page.getByRole("dialog", { name: "Create bucket" });
    await dialog.getByLabel("Name").fill(doomed);
    await dialog.getByRole("button", { name: "Create bucket" }).click();
    await page.getByRole("link", { name: doomed, exact: true }).waitFor();
    await page.getByRole("button", { name: `Delete bucket ${doomed}` }).click();
    const confirm = page.getByRole("alertdialog");
    await confirm.getByText("This cannot be undone").waitFor();
    await shot("11-delete-bucket-confirm");
    await confirm.getByRole("button", { name: "Delete bucket" }).click();
    await page.getByRole("link", { name: doomed, exact: true }).waitFor({ state: "detached" });
    await page.getByRole("link", { name: bucket, exact: true }).waitFor();
  });

  await step("tenants", async () => {
    await nav("Tenants").click();
    await page.getByRole("heading", { name: "Tenants" }).waitFor();
    await page.getByRole("button", { name: "Create tenant" }).first().click();
    const dialog = page.getByRole("dialog", { name: "Create tenant" });
    await dialog.getByLabel("Name", { exact: true }).fill(tenant);
    await dialog.getByLabel("Storage quota (GiB)").fill("5");
    await dialog.getByLabel("Max buckets").fill("abc");
    await dialog.getByRole("button", { name: "Create tenant" }).click();
    // Checked before sending: the field says what is wrong.
    await dialog.getByText("A whole number (0 or more), or empty").waitFor();
    await dialog.getByLabel("Max buckets").fill("10");
    await shot("18-create-tenant");
    await dialog.getByRole("button", { name: "Create tenant" }).click();
    await dialog.waitFor({ state: "detached" });
    await page.getByRole("meter", { name: `Storage of ${tenant}` }).waitFor();
    await shot("19-tenants");
    created.tenant = tenant;
  });

  await step("policy-and-group", async () => {
    await nav("Policies").click();
    await page.getByRole("heading", { name: "Policies" }).waitFor();
    await page.getByRole("table", { name: "Policies" }).getByText("readonly").waitFor();
    await page.getByRole("button", { name: "New policy" }).first().click();
    const editor = page.getByRole("dialog", { name: "New policy" });
    await editor.getByLabel("Name").fill(policy);
    const document = editor.getByLabel("Policy document (JSON)");
    // The server's parser has the last word: its MalformedPolicyDocument reason is shown.
    await document.fill(
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: "GetObject", Resource: "*" }],
      }),
    );
    // Chromium logs the refused call (400) itself; that one error is the point here.
    const before = errors.length;
    await editor.getByRole("button", { name: "Create policy" }).click();
    await editor.getByText("Policy has invalid action").waitFor();
    errors.push(...errors.splice(before).filter((text) => !text.includes("400")));
    await shot("20-policy-editor-refused");
    await document.fill(
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Action: ["s3:GetObject"], Resource: "arn:aws:s3:::*/*" }],
      }),
    );
    await editor.getByRole("button", { name: "Format JSON" }).click();
    await editor.getByRole("button", { name: "Create policy" }).click();
    await editor.waitFor({ state: "detached" });
    await page.getByRole("table", { name: "Policies" }).getByText(policy).waitFor();
    await nav("Groups").click();
    await page.getByRole("heading", { name: "Groups" }).waitFor();
    await page.getByRole("button", { name: "Create group" }).first().click();
    const dialog = page.getByRole("dialog", { name: "Create group" });
    await dialog.getByLabel("Group name").fill(group);
    await dialog.getByRole("button", { name: "Create group" }).click();
    const card = page.getByTestId(`group-${group}`);
    await card.waitFor();
    await card.getByLabel(`Policy to attach to ${group}`).selectOption({ label: policy });
    await card.getByRole("button", { name: "Attach policy" }).click();
    await card.getByRole("button", { name: `Remove ${policy}` }).waitFor();
    await card.getByLabel(`User to add to ${group}`).selectOption({ label: username });
    await card.getByRole("button", { name: "Add member" }).click();
    await card.getByRole("button", { name: `Remove ${username}` }).waitFor();
    await shot("21-groups");
    // The member's page shows the policy as coming through the group.
    await nav("Users & keys").click();
    await page.getByRole("link", { name: username, exact: true }).click();
    await page.getByRole("heading", { name: username }).waitFor();
    await page
      .getByRole("list", { name: "Effective policies" })
      .getByText(`through group ${group}`)
      .waitFor();
    await shot("22-user-detail");
    created.policy = policy;
    created.group = group;
  });

  await step("settings", async () => {
    await nav("Settings").click();
    await page.getByRole("heading", { name: "Settings" }).waitFor();
    const field = page.getByLabel("Lockout duration");
    await field.fill("0");
    await page.getByText("At least 1", { exact: true }).waitFor();
    await field.fill("600");
    await page.getByRole("button", { name: "Save changes" }).click();
    await page.getByTestId("toast-success").getByText("Settings saved").waitFor();
    await page.getByRole("tab", { name: "audit" }).click();
    await page.getByRole("tab", { name: "security" }).click();
    if ((await page.getByLabel("Lockout duration").inputValue()) !== "600") {
      throw new Error("the setting did not stay");
    }
    await shot("23-settings");
  });

  await step("metrics", async () => {
    await nav("Metrics").click();
    await page.getByRole("heading", { name: "Metrics" }).waitFor();
    // Two samples make the first rates: the admin takes one every 5 s.
    const charts = page.getByTestId("metrics-charts");
    await charts.waitFor({ timeout: 30_000 });
    const canvases = charts.locator("canvas");
    await canvases.nth(2).waitFor();
    await page.getByRole("table", { name: "Operations" }).getByText("PutObject").waitFor();
    await page.getByRole("table", { name: "Shards" }).waitFor();
    await shot("24-metrics");
  });

  await step("about-and-dark-mode", async () => {
    await nav("About").click();
    await page
      .getByTestId("about-version")
      .getByText(/\d+\.\d+/)
      .waitFor();
    await shot("12-about");
    await page.getByRole("radio", { name: "dark" }).click();
    await nav("Dashboard").click();
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    if (background === "rgb(255, 255, 255)") throw new Error("dark mode did not apply");
    await shot("13-dashboard-dark");
    await page.getByRole("radio", { name: "system" }).click();
  });

  await step("expired-session-goes-to-login", async () => {
    // A session the server no longer knows: the first 401 must bring the login page back.
    await page.evaluate(() => {
      const stored = JSON.parse(localStorage.getItem("maxiofs.session"));
      stored.token = "not-a-valid-token";
      localStorage.setItem("maxiofs.session", JSON.stringify(stored));
    });
    // Chromium logs the refused call itself; that one error is the point of this step.
    const before = errors.length;
    await page.goto(`${base}/buckets`);
    await page.waitForURL("**/login");
    await page.getByRole("button", { name: "Sign in" }).waitFor();
    const unexpected = errors.splice(before).filter((text) => !text.includes("401"));
    errors.push(...unexpected);
  });

  if (process.env.TOTP_USER) {
    await step("login-with-2fa", async () => {
      await login(process.env.TOTP_USER, process.env.TOTP_PASSWORD);
      const code = page.getByLabel("Authentication code");
      await code.waitFor();
      await shot("14-login-2fa");
      // One step ahead: the server accepts +-1 step, and the current one was spent enabling 2FA.
      await code.fill(totp(process.env.TOTP_SECRET, 1));
      await page.getByRole("button", { name: "Verify" }).click();
      // Back where the expired session left off (the buckets page), as this user.
      await page.getByRole("heading", { name: "Buckets" }).waitFor();
      const who = await page.getByTestId("current-user").textContent();
      if (who !== process.env.TOTP_USER) throw new Error(`signed in as ${who}`);
      // A plain user manages only themselves: no users page in the navigation.
      if ((await nav("Users & keys").count()) !== 0) throw new Error("users page offered");
      await shot("15-user-after-2fa");
      await page.getByRole("button", { name: "Sign out" }).click();
      await page.waitForURL("**/login");
    });
  }

  await step("enrol-2fa-then-sign-in-with-a-backup-code", async () => {
    // The user made on the users page enrols in the profile page, with the code an app
    // would show for the secret the page displays.
    await login(username, "Correct-Horse-9");
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    await nav("Profile").click();
    await page.getByRole("button", { name: "Set up 2FA" }).click();
    await page.getByRole("img", { name: "QR code for your authenticator app" }).waitFor();
    const secret = await page.locator("form code").textContent();
    await page.getByLabel("Code from the app").fill(totp(secret));
    await shot("16-profile-2fa-setup");
    await page.getByRole("button", { name: "Turn on 2FA" }).click();
    const dialog = page.getByRole("dialog", { name: "Backup codes" });
    // allTextContents does not wait: the list must be there first (a busy machine is slow).
    await dialog.getByTestId("backup-codes").locator("li").first().waitFor();
    const codes = await dialog.getByTestId("backup-codes").locator("li").allTextContents();
    if (codes.length !== 10) throw new Error(`${codes.length} backup codes`);
    await shot("17-backup-codes");
    await dialog.getByRole("button", { name: "I have saved them" }).click();
    await page.getByTestId("2fa-status").getByText("On").waitFor();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.waitForURL("**/login");
    await login(username, "Correct-Horse-9");
    await page.getByRole("button", { name: "Use a backup code" }).click();
    await page.getByLabel("Backup code").fill(codes[0]);
    await page.getByRole("button", { name: "Verify" }).click();
    await page.getByRole("heading", { name: "Dashboard" }).waitFor();
    const who = await page.getByTestId("current-user").textContent();
    if (who !== username) throw new Error(`signed in as ${who}`);
  });

  await step("object-browser", async () => {
    // Still signed in as the user made above: the browser calls the S3 port with that
    // user's short-lived credentials.
    const sha = (bytes) => createHash("sha256").update(bytes).digest("hex");
    const small = ["a.txt", "b.txt", "c.txt"].map((name, idx) => ({
      name,
      mimeType: "text/plain",
      buffer: Buffer.from(`file ${name} ${"x".repeat(100 * (idx + 1))}\n`),
    }));
    // Over the multipart threshold (16 MiB): three parts of 8 MiB at most.
    const bigBytes = Buffer.alloc(20 * 1024 * 1024);
    for (let at = 0; at < bigBytes.length; at += 4096) bigBytes.writeUInt32LE(at, at);
    const big = { name: "big.bin", mimeType: "application/octet-stream", buffer: bigBytes };
    await nav("Buckets").click();
    await page.getByRole("link", { name: `Browse objects of ${bucket}` }).click();
    await page.getByText("This folder is empty").waitFor();
    await page.getByRole("button", { name: "New folder" }).click();
    await page.getByRole("dialog", { name: "New folder" }).getByLabel("Folder name").fill("docs");
    await page.getByRole("button", { name: "Open folder" }).click();
    await page.waitForURL("**/objects?prefix=docs%2F");
    const started = Date.now();
    await page.getByLabel("Files to upload").setInputFiles([...small, big]);
    await page.getByRole("progressbar", { name: "Upload of docs/big.bin" }).waitFor();
    await shot("28-object-upload-progress");
    const objects = page.getByRole("table", { name: "Objects" });
    const status = page.getByTestId("upload-status");
    await page.waitForFunction(
      () =>
        [...document.querySelectorAll('[data-testid="upload-status"]')].every((node) =>
          node.textContent.startsWith("Done"),
        ),
      null,
      { timeout: 60_000 },
    );
    created.uploadMs = Date.now() - started;
    if ((await status.count()) !== 4) throw new Error(`${await status.count()} uploads`);
    if (!(await status.nth(3).textContent()).includes("multipart")) {
      throw new Error("big.bin did not go as multipart");
    }
    // Drag and drop: a file dropped on the page goes into the open folder.
    const transfer = await page.evaluateHandle(() => {
      const data = new DataTransfer();
      data.items.add(new File(["dropped bytes"], "dropped.txt", { type: "text/plain" }));
      return data;
    });
    await page.getByTestId("drop-zone").dispatchEvent("drop", { dataTransfer: transfer });
    for (const name of ["a.txt", "b.txt", "c.txt", "big.bin", "dropped.txt"]) {
      await objects.getByText(name, { exact: true }).waitFor();
    }
    await shot("29-object-browser-folder");
    // Breadcrumbs: up to the bucket, where docs/ is a folder, and back into it.
    await page.getByRole("navigation", { name: "Breadcrumbs" }).getByRole("button").click();
    // The folder's rows leave before the bucket's listing is clicked into (else the click
    // could land on the old page, whose file buttons also name docs/).
    await objects.getByText("big.bin", { exact: true }).waitFor({ state: "detached" });
    await objects.getByRole("button", { name: /^📁 docs\/$/ }).click();
    await objects.getByText("big.bin", { exact: true }).waitFor();
    // Search by prefix inside the folder; a selection the search hides is dropped.
    await page.getByRole("checkbox", { name: "Select docs/a.txt" }).check();
    await page.getByRole("button", { name: "Delete selected (1)" }).waitFor();
    await page.getByLabel("Search by prefix").fill("b");
    await page.getByRole("button", { name: "Delete selected (0)" }).waitFor();
    await objects.getByText("a.txt", { exact: true }).waitFor({ state: "detached" });
    await objects.getByText("big.bin", { exact: true }).waitFor();
    await objects.getByText("b.txt", { exact: true }).waitFor();
    await shot("30-object-search");
    await page.getByLabel("Search by prefix").fill("");
    await objects.getByText("a.txt", { exact: true }).waitFor();
    // Download (a presigned GET) and compare the bytes.
    for (const file of [small[0], big]) {
      const download = page.waitForEvent("download");
      await page.getByRole("button", { name: `Download docs/${file.name}` }).click();
      const saved = await (await download).path();
      if (sha(readFileSync(saved)) !== sha(file.buffer)) {
        throw new Error(`downloaded ${file.name} differs`);
      }
    }
    // A share link, fetched with no session at all.
    await page.getByRole("button", { name: "Share docs/a.txt" }).click();
    const share = page.getByRole("dialog", { name: "Share link" });
    await share.getByLabel("Expires after").selectOption({ label: "15 minutes" });
    await share.getByRole("button", { name: "Create link" }).click();
    const link = await share.getByLabel("Link").inputValue();
    await share.getByRole("button", { name: "Copy" }).click();
    await share.getByRole("button", { name: "Copied" }).waitFor();
    await shot("31-object-share");
    const shared = Buffer.from(await (await fetch(link)).arrayBuffer());
    if (sha(shared) !== sha(small[0].buffer)) throw new Error("the share link answers other bytes");
    await share.getByRole("button", { name: "Close" }).click();
    // Details: metadata and tags.
    await page.getByRole("button", { name: "Details of docs/a.txt" }).click();
    const details = page.getByRole("dialog", { name: "docs/a.txt" });
    const contentType = details.getByLabel("Content type");
    await contentType.waitFor();
    if ((await contentType.inputValue()) !== "text/plain") throw new Error("content type");
    await details.getByRole("tab", { name: "Tags" }).click();
    await details.getByRole("button", { name: "Add tag" }).click();
    await details.getByLabel("Tag 1 key").fill("project");
    await details.getByLabel("Tag 1 value").fill("e2e");
    await details.getByRole("button", { name: "Save tags" }).click();
    await page.getByTestId("toast-success").getByText("Tags saved").waitFor();
    await shot("32-object-tags");
    await details.getByRole("button", { name: "Close" }).click();
    await details.waitFor({ state: "detached" });
    // Delete two objects at once, after confirming.
    await page.getByRole("checkbox", { name: "Select docs/a.txt" }).check();
    await page.getByRole("checkbox", { name: "Select docs/b.txt" }).check();
    await page.getByRole("button", { name: "Delete selected (2)" }).click();
    const confirm = page.getByRole("alertdialog");
    await confirm.getByText("docs/a.txt, docs/b.txt").waitFor();
    await shot("33-object-delete-confirm");
    await confirm.getByRole("button", { name: "Delete objects" }).click();
    await objects.getByText("a.txt", { exact: true }).waitFor({ state: "detached" });
    await objects.getByText("b.txt", { exact: true }).waitFor({ state: "detached" });
    await objects.getByText("c.txt", { exact: true }).waitFor();
    created.objects = { bucket, kept: ["docs/c.txt", "docs/big.bin", "docs/dropped.txt"] };
  });

  if (process.env.BIG_BUCKET) {
    await step("object-browser-pages", async () => {
      // A page of 1000 keys: listed (ListObjectsV2) and rendered, then the next page.
      const count = page.getByTestId("listed-count");
      let started = Date.now();
      await page.goto(`${base}/buckets/${process.env.BIG_BUCKET}/objects`);
      await count.getByText("1,000 listed (more to load)").waitFor({ timeout: 30_000 });
      const firstPageMs = Date.now() - started;
      await shot("34-object-browser-1000");
      started = Date.now();
      await page.getByRole("button", { name: "Load more" }).click();
      await count.getByText("2,000 listed", { exact: true }).waitFor({ timeout: 30_000 });
      const nextPageMs = Date.now() - started;
      const rows = await page.getByRole("table", { name: "Objects" }).locator("tbody tr").count();
      if (rows !== 2000) throw new Error(`${rows} rows`);
      created.listing = { firstPageMs, nextPageMs };
    });
  }
} finally {
  await browser.close();
}

if (errors.length > 0) {
  console.error(`browser errors:\n${errors.join("\n")}`);
  process.exit(1);
}
console.log(JSON.stringify({ ...created, firstLoad, steps }));
