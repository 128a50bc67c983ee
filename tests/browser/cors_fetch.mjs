// A browser page on one origin uses the S3 port of another, as a web app uploading with a
// presigned URL does. Prints one JSON object: what the page saw.
//
//   node cors_fetch.mjs '{"allowedPage": URL, "foreignPage": URL, "putUrl": URL,
//                         "getUrl": URL, "body": "text"}'
//
// The PUT carries a non-safelisted Content-Type, so Chromium sends a real preflight first.
// Drives the system Chromium (CHROMIUM, default /usr/bin/chromium); never downloads one.
import { chromium } from "playwright-core";

const config = JSON.parse(process.argv[2]);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  // Root in CI: Chromium's sandbox needs an unprivileged user.
  args: ["--no-sandbox"],
  timeout: 60_000,
});
const result = {};
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(30_000);
  await page.goto(config.allowedPage);
  Object.assign(
    result,
    await page.evaluate(async ({ putUrl, getUrl, body }) => {
      const put = await fetch(putUrl, {
        method: "PUT",
        body,
        headers: { "Content-Type": "application/octet-stream" },
      });
      const get = await fetch(getUrl);
      return {
        putStatus: put.status,
        putEtag: put.headers.get("ETag"),
        // Not exposed by the rule: a script must not see it.
        putServer: put.headers.get("Server"),
        getStatus: get.status,
        getBody: await get.text(),
      };
    }, config),
  );
  await page.goto(config.foreignPage);
  result.foreignError = await page.evaluate(async ({ getUrl }) => {
    try {
      await fetch(getUrl);
      return null;
    } catch (error) {
      return String(error);
    }
  }, config);
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
