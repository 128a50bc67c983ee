// A browser on the S3 port over https: the page loads from the server itself (its health
// endpoint), so the certificate must be accepted, then uploads with a presigned PUT and reads
// the object back with a presigned GET (same origin: no CORS involved). Prints one JSON
// object: what the page saw.
//
//   node tls_upload.mjs '{"pageUrl": URL, "putUrl": URL, "getUrl": URL, "body": "text",
//                         "spki": "base64 SHA-256 of the test certificate's public key"}'
//
// The test CA is trusted the narrow way: Chromium ignores certificate errors only for a
// certificate with that public key (--ignore-certificate-errors-spki-list), not for any.
// Without "spki" the page must fail to load (the control case). Drives the system Chromium
// (CHROMIUM, default /usr/bin/chromium); never downloads one.
import { chromium } from "playwright-core";

const config = JSON.parse(process.argv[2]);
const args = ["--no-sandbox"];
if (config.spki) {
  args.push(`--ignore-certificate-errors-spki-list=${config.spki}`);
}
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args,
  timeout: 60_000,
});
const result = {};
try {
  const page = await browser.newPage();
  page.setDefaultTimeout(30_000);
  try {
    const response = await page.goto(config.pageUrl);
    result.pageStatus = response.status();
    result.pageSecure = page.url().startsWith("https://");
  } catch (error) {
    result.pageError = String(error);
  }
  if (result.pageStatus === 200) {
    Object.assign(
      result,
      await page.evaluate(async ({ putUrl, getUrl, body }) => {
        const put = await fetch(putUrl, { method: "PUT", body });
        const get = await fetch(getUrl);
        return {
          putStatus: put.status,
          putEtag: put.headers.get("ETag"),
          getStatus: get.status,
          getBody: await get.text(),
          secureContext: window.isSecureContext,
        };
      }, config),
    );
  }
} finally {
  await browser.close();
}
console.log(JSON.stringify(result));
