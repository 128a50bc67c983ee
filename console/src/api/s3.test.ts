import { afterEach, describe, expect, it, vi } from "vitest";
import { browserEndpoint, objectUrl, S3Client, S3Error, type S3Access } from "./s3";

const ACCESS: S3Access = {
  endpoint: "http://127.0.0.1:9000",
  region: "us-east-1",
  accessKeyId: "ASIAEXAMPLE",
  secretAccessKey: "secret",
  sessionToken: "token/with+chars=",
};

afterEach(() => vi.unstubAllGlobals());

/** A fetch answering `body`, which records its (url, init) calls. */
function answering(body: string) {
  const calls: [string, RequestInit][] = [];
  const fetch = vi.fn(async (url: string, init: RequestInit) => {
    calls.push([url, init]);
    return new Response(body);
  });
  return Object.assign(fetch, { calls });
}

describe("S3 URLs", () => {
  it("are path-style with each key segment percent-encoded", () => {
    expect(objectUrl("http://h:9", "b", "dir/a b+c(1).txt")).toBe(
      "http://h:9/b/dir/a%20b%2Bc%281%29.txt",
    );
    expect(objectUrl("http://h:9", "b", "", { "list-type": "2", prefix: "a b/", delete: "" })).toBe(
      "http://h:9/b?list-type=2&prefix=a%20b%2F&delete",
    );
  });

  it("put the page's host in place of a wildcard listen address", () => {
    expect(browserEndpoint("http://0.0.0.0:9000", "nas.local")).toBe("http://nas.local:9000");
    expect(browserEndpoint("https://s3.example.com/", "x")).toBe("https://s3.example.com");
  });
});

describe("S3Client", () => {
  it("signs with SigV4 and the session token as a signed header", async () => {
    const fetch = answering(
      "<ListBucketResult><IsTruncated>false</IsTruncated></ListBucketResult>",
    );
    vi.stubGlobal("fetch", fetch);
    const client = new S3Client(async () => ACCESS);
    await client.listObjects("b", { prefix: "a/", maxKeys: 1000 });
    const [url, init] = fetch.calls[0]!;
    expect(url).toBe("http://127.0.0.1:9000/b?list-type=2&delimiter=%2F&prefix=a%2F&max-keys=1000");
    const headers = init.headers as Headers;
    expect(headers.get("x-amz-security-token")).toBe(ACCESS.sessionToken);
    expect(headers.get("authorization")).toMatch(
      /^AWS4-HMAC-SHA256 Credential=ASIAEXAMPLE\/\d{8}\/us-east-1\/s3\/aws4_request, SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
    );
  });

  it("turns an S3 error answer into an S3Error with its code and request id", async () => {
    const answer = "<Error><Code>AccessDenied</Code><Message>Access Denied.</Message></Error>";
    vi.stubGlobal(
      "fetch",
      vi.fn(
        async () => new Response(answer, { status: 403, headers: { "x-amz-request-id": "r1" } }),
      ),
    );
    const client = new S3Client(async () => ACCESS);
    const error = await client.getTagging("b", "k").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(S3Error);
    expect(error).toMatchObject({ status: 403, code: "AccessDenied", requestId: "r1" });
  });

  it("presigns a GET for the chosen time, token in the signed query", async () => {
    const client = new S3Client(async () => ACCESS);
    const url = new URL(await client.presignGet("b", "d/x.txt", 900, { download: true }));
    expect(url.pathname).toBe("/b/d/x.txt");
    expect(url.searchParams.get("X-Amz-Expires")).toBe("900");
    expect(url.searchParams.get("X-Amz-Security-Token")).toBe(ACCESS.sessionToken);
    expect(url.searchParams.get("X-Amz-Signature")).toMatch(/^[0-9a-f]{64}$/);
    expect(url.searchParams.get("response-content-disposition")).toBe(
      "attachment; filename*=UTF-8''x.txt",
    );
    // A space is sent as %20: S3 reads "+" in a query as a plus sign.
    expect(url.search).toContain("attachment%3B%20filename");
    expect(url.search).not.toContain("+");
  });

  it("sends DeleteObjects with the SHA-256 checksum S3 requires of its body", async () => {
    const fetch = answering("<DeleteResult><Deleted><Key>a</Key></Deleted></DeleteResult>");
    vi.stubGlobal("fetch", fetch);
    const result = await new S3Client(async () => ACCESS).deleteObjects("b", ["a"]);
    expect(result.deleted).toEqual(["a"]);
    const [url, init] = fetch.calls[0]!;
    expect(url).toBe("http://127.0.0.1:9000/b?delete");
    expect(init.method).toBe("POST");
    expect((init.headers as Headers).get("x-amz-checksum-sha256")).toMatch(/^[A-Za-z0-9+/]{43}=$/);
  });
});
