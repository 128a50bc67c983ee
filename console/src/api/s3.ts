// The console's S3 client: the object browser calls the S3 port directly (large uploads never
// pass through the admin), signed with SigV4 by aws4fetch (a few KiB; not the AWS SDK) using
// the short-lived credentials `POST /auth/s3-credentials` mints for the logged-in user.
// Path-style URLs (`endpoint/bucket/key`), keys percent-encoded per segment. Uploads go by
// XMLHttpRequest, whose upload events give progress (fetch has none for request bodies).
import { AwsV4Signer } from "aws4fetch";
import { ApiError } from "./client";
import {
  buildCompleteMultipart,
  buildDelete,
  buildTagging,
  parseDeleteResult,
  parseError,
  parseListObjects,
  parseListVersions,
  parseTagging,
  parseUploadId,
  type DeleteResult,
  type ListPage,
  type ObjectVersion,
  type Tag,
} from "./s3xml";

/** Where and as whom to call S3. */
export interface S3Access {
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
}

/** An S3 error answer, shown like the console API's (code, message, request id). */
export class S3Error extends ApiError {
  constructor(status: number, code: string, message: string, requestId: string | null) {
    super(status, code, message, requestId);
    this.name = "S3Error";
  }
}

/** Keys per DeleteObjects request (S3's limit). */
const DELETE_BATCH_KEYS = 1000;
/** Parts of one multipart upload in flight at once. */
const PARTS_IN_FLIGHT = 3;
/** Tries of one part before the upload stops (it can then be resumed). */
const PART_TRIES = 3;
const PART_RETRY_DELAY_MS = 1000;

/** The endpoint as this page reaches it: a wildcard listen address (0.0.0.0, [::]) is
 * replaced by the host name the console was loaded from. */
export function browserEndpoint(endpoint: string, pageHostname: string): string {
  const url = new URL(endpoint);
  if (url.hostname === "0.0.0.0" || url.hostname === "[::]") url.hostname = pageHostname;
  return url.origin + url.pathname.replace(/\/+$/, "");
}

/** RFC 3986 encoding of one path segment or query value (what SigV4 canonicalises). */
export function encodeSegment(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export function objectUrl(
  endpoint: string,
  bucket: string,
  key = "",
  query: Record<string, string | undefined> = {},
): string {
  const path = key === "" ? "" : "/" + key.split("/").map(encodeSegment).join("/");
  const search = Object.entries(query)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => (value === "" ? name : `${name}=${encodeSegment(value)}`))
    .join("&");
  return `${endpoint}/${encodeSegment(bucket)}${path}${search ? `?${search}` : ""}`;
}

async function sign(
  access: S3Access,
  method: string,
  url: string,
  headers: Record<string, string> = {},
  expiresSeconds?: number,
): Promise<{ url: string; headers: Headers }> {
  const signQuery = expiresSeconds !== undefined;
  const target = new URL(url);
  if (signQuery) target.searchParams.set("X-Amz-Expires", String(expiresSeconds));
  const signer = new AwsV4Signer({
    method,
    url: target.toString(),
    headers,
    accessKeyId: access.accessKeyId,
    secretAccessKey: access.secretAccessKey,
    sessionToken: access.sessionToken,
    service: "s3",
    region: access.region,
    signQuery,
  });
  const signed = await signer.sign();
  // Query signing rewrites the query through URLSearchParams, which writes a space as "+";
  // S3 reads "+" as itself, so the space goes back to "%20" (a real "+" is "%2B" there).
  const search = signed.url.search.replace(/\+/g, "%20");
  return { url: signed.url.origin + signed.url.pathname + search, headers: signed.headers };
}

async function errorOf(response: Response): Promise<S3Error> {
  const { code, message } = parseError(await response.text(), response.status);
  return new S3Error(response.status, code, message, response.headers.get("x-amz-request-id"));
}

async function sha256Base64(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return btoa(String.fromCharCode(...new Uint8Array(digest)));
}

export interface ObjectHead {
  sizeBytes: number;
  contentType: string;
  lastModified: string;
  etag: string;
  versionId: string | null;
  /** User metadata (x-amz-meta-*), names without the prefix. */
  metadata: Record<string, string>;
}

export interface UploadOptions {
  /** Bytes sent so far (of the whole file). */
  onProgress?: (sentBytes: number) => void;
  signal?: AbortSignal;
  /** A multipart upload's state, kept by the caller so that a failed upload resumes. */
  resume?: MultipartState;
}

export interface MultipartState {
  uploadId: string | null;
  /** ETag of each part already stored (index = part number - 1). */
  etags: (string | undefined)[];
}

export class S3Client {
  private readonly access: () => Promise<S3Access>;

  constructor(access: () => Promise<S3Access>) {
    this.access = access;
  }

  private async call(
    method: string,
    bucket: string,
    key: string,
    options: {
      query?: Record<string, string | undefined>;
      headers?: Record<string, string>;
      body?: BodyInit;
      signal?: AbortSignal;
    } = {},
  ): Promise<Response> {
    const access = await this.access();
    const url = objectUrl(access.endpoint, bucket, key, options.query);
    const signed = await sign(access, method, url, options.headers);
    let response: Response;
    try {
      response = await fetch(signed.url, {
        method,
        headers: signed.headers,
        body: options.body,
        signal: options.signal,
      });
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") throw error;
      throw new S3Error(
        0,
        "NetworkError",
        `the S3 endpoint ${access.endpoint} cannot be reached`,
        null,
      );
    }
    if (!response.ok) throw await errorOf(response);
    return response;
  }

  async listObjects(
    bucket: string,
    options: { prefix: string; token?: string | null; maxKeys: number; signal?: AbortSignal },
  ): Promise<ListPage> {
    const response = await this.call("GET", bucket, "", {
      query: {
        "list-type": "2",
        delimiter: "/",
        prefix: options.prefix || undefined,
        "max-keys": String(options.maxKeys),
        "continuation-token": options.token ?? undefined,
      },
      signal: options.signal,
    });
    return parseListObjects(await response.text());
  }

  async listVersions(bucket: string, key: string): Promise<ObjectVersion[]> {
    const response = await this.call("GET", bucket, "", {
      query: { versions: "", prefix: key, "max-keys": "1000" },
    });
    return parseListVersions(await response.text()).filter((version) => version.key === key);
  }

  async headObject(bucket: string, key: string): Promise<ObjectHead> {
    const response = await this.call("HEAD", bucket, key);
    const metadata: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      if (name.startsWith("x-amz-meta-")) metadata[name.slice("x-amz-meta-".length)] = value;
    });
    return {
      sizeBytes: Number(response.headers.get("content-length") ?? 0),
      contentType: response.headers.get("content-type") ?? "",
      lastModified: response.headers.get("last-modified") ?? "",
      etag: response.headers.get("etag") ?? "",
      versionId: response.headers.get("x-amz-version-id"),
      metadata,
    };
  }

  /** Replaces the user metadata (and content type) by copying the object onto itself. */
  async putMetadata(
    bucket: string,
    key: string,
    contentType: string,
    metadata: Record<string, string>,
  ) {
    const headers: Record<string, string> = {
      "x-amz-copy-source": `/${encodeSegment(bucket)}/${key.split("/").map(encodeSegment).join("/")}`,
      "x-amz-metadata-directive": "REPLACE",
    };
    if (contentType) headers["content-type"] = contentType;
    for (const [name, value] of Object.entries(metadata)) headers[`x-amz-meta-${name}`] = value;
    await this.call("PUT", bucket, key, { headers });
  }

  async getTagging(bucket: string, key: string): Promise<Tag[]> {
    const response = await this.call("GET", bucket, key, { query: { tagging: "" } });
    return parseTagging(await response.text());
  }

  async putTagging(bucket: string, key: string, tags: Tag[]): Promise<void> {
    const body = buildTagging(tags);
    await this.call("PUT", bucket, key, {
      query: { tagging: "" },
      headers: { "x-amz-checksum-sha256": await sha256Base64(body) },
      body,
    });
  }

  /** Deletes `keys` by DeleteObjects, 1000 a request; the body's SHA-256 is the integrity
   * check S3 requires of it (WebCrypto has no MD5). */
  async deleteObjects(bucket: string, keys: string[]): Promise<DeleteResult> {
    const result: DeleteResult = { deleted: [], errors: [] };
    for (let at = 0; at < keys.length; at += DELETE_BATCH_KEYS) {
      const body = buildDelete(keys.slice(at, at + DELETE_BATCH_KEYS));
      const response = await this.call("POST", bucket, "", {
        query: { delete: "" },
        headers: { "x-amz-checksum-sha256": await sha256Base64(body) },
        body,
      });
      const batch = parseDeleteResult(await response.text());
      result.deleted.push(...batch.deleted);
      result.errors.push(...batch.errors);
    }
    return result;
  }

  async deleteVersion(bucket: string, key: string, versionId: string): Promise<void> {
    await this.call("DELETE", bucket, key, { query: { versionId } });
  }

  /** Makes `versionId` the current version again (a copy of it on top). */
  async restoreVersion(bucket: string, key: string, versionId: string): Promise<void> {
    const source = `/${encodeSegment(bucket)}/${key.split("/").map(encodeSegment).join("/")}`;
    await this.call("PUT", bucket, key, {
      headers: { "x-amz-copy-source": `${source}?versionId=${encodeSegment(versionId)}` },
    });
  }

  /** A presigned GET URL, valid `expiresSeconds` (and no longer than the credentials that
   * sign it). With `download`, the answer asks the browser to save the file. */
  async presignGet(
    bucket: string,
    key: string,
    expiresSeconds: number,
    options: { download?: boolean; versionId?: string; access?: S3Access } = {},
  ): Promise<string> {
    const access = options.access ?? (await this.access());
    const name = key.slice(key.lastIndexOf("/") + 1);
    const query = {
      versionId: options.versionId,
      "response-content-disposition": options.download
        ? `attachment; filename*=UTF-8''${encodeSegment(name)}`
        : undefined,
    };
    const url = objectUrl(access.endpoint, bucket, key, query);
    return (await sign(access, "GET", url, {}, expiresSeconds)).url;
  }

  /** Uploads `file` to `key`: one PUT up to `thresholdBytes`, else a multipart upload. */
  async upload(
    bucket: string,
    key: string,
    file: Blob,
    plan: { thresholdBytes: number; partSizeBytes: number },
    options: UploadOptions = {},
  ): Promise<void> {
    if (file.size <= plan.thresholdBytes) {
      const access = await this.access();
      const headers = contentTypeOf(file);
      const signed = await sign(access, "PUT", objectUrl(access.endpoint, bucket, key), headers);
      await send("PUT", signed, file, options.onProgress ?? (() => {}), options.signal);
      return;
    }
    await this.uploadParts(bucket, key, file, plan.partSizeBytes, options);
  }

  private async uploadParts(
    bucket: string,
    key: string,
    file: Blob,
    partSizeBytes: number,
    options: UploadOptions,
  ): Promise<void> {
    const state = options.resume ?? { uploadId: null, etags: [] };
    if (state.uploadId === null) {
      const response = await this.call("POST", bucket, key, {
        query: { uploads: "" },
        headers: contentTypeOf(file),
      });
      state.uploadId = parseUploadId(await response.text());
    }
    const uploadId = state.uploadId;
    const partCount = Math.max(1, Math.ceil(file.size / partSizeBytes));
    const sentBytes = new Array<number>(partCount).fill(0);
    const report = () => options.onProgress?.(sentBytes.reduce((sum, bytes) => sum + bytes, 0));
    const partOf = (idx: number) => file.slice(idx * partSizeBytes, (idx + 1) * partSizeBytes);
    state.etags.forEach((etag, idx) => {
      if (etag) sentBytes[idx] = partOf(idx).size;
    });
    report();
    const pending = [...Array(partCount).keys()].filter((idx) => !state.etags[idx]);
    const worker = async () => {
      for (let idx = pending.shift(); idx !== undefined; idx = pending.shift()) {
        const part = partOf(idx);
        const query = { partNumber: String(idx + 1), uploadId };
        state.etags[idx] = await this.withRetries(options.signal, async () => {
          const access = await this.access();
          const url = objectUrl(access.endpoint, bucket, key, query);
          const signed = await sign(access, "PUT", url);
          const onProgress = (bytes: number) => {
            sentBytes[idx] = bytes;
            report();
          };
          return send("PUT", signed, part, onProgress, options.signal);
        });
      }
    };
    await Promise.all(Array.from({ length: Math.min(PARTS_IN_FLIGHT, partCount) }, worker));
    const body = buildCompleteMultipart(state.etags.map((etag) => etag ?? ""));
    await this.call("POST", bucket, key, { query: { uploadId }, body });
  }

  private async withRetries(signal: AbortSignal | undefined, action: () => Promise<string>) {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await action();
      } catch (error) {
        const retryable = error instanceof S3Error && (error.status === 0 || error.status >= 500);
        if (!retryable || attempt >= PART_TRIES || signal?.aborted) throw error;
        await new Promise((resolve) => setTimeout(resolve, PART_RETRY_DELAY_MS * attempt));
      }
    }
  }

  /** Ends a multipart upload the user cancelled: its stored parts are dropped. */
  async abortMultipart(bucket: string, key: string, uploadId: string): Promise<void> {
    await this.call("DELETE", bucket, key, { query: { uploadId } });
  }
}

function contentTypeOf(file: Blob): Record<string, string> {
  return file.type ? { "content-type": file.type } : {};
}

/** One signed request with a body by XMLHttpRequest: upload progress, abort; the ETag. */
function send(
  method: string,
  signed: { url: string; headers: Headers },
  body: Blob,
  onProgress: (sentBytes: number) => void,
  signal?: AbortSignal,
): Promise<string> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new DOMException("upload cancelled", "AbortError"));
      return;
    }
    const xhr = new XMLHttpRequest();
    xhr.open(method, signed.url);
    signed.headers.forEach((value, name) => xhr.setRequestHeader(name, value));
    xhr.upload.onprogress = (event) => onProgress(event.loaded);
    const onAbort = () => xhr.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    const done = () => signal?.removeEventListener("abort", onAbort);
    xhr.onload = () => {
      done();
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress(body.size);
        resolve(xhr.getResponseHeader("etag") ?? "");
        return;
      }
      const { code, message } = parseError(xhr.responseText, xhr.status);
      reject(new S3Error(xhr.status, code, message, xhr.getResponseHeader("x-amz-request-id")));
    };
    xhr.onerror = () => {
      done();
      reject(new S3Error(0, "NetworkError", "the upload lost its connection", null));
    };
    xhr.onabort = () => {
      done();
      reject(new DOMException("upload cancelled", "AbortError"));
    };
    xhr.send(body);
  });
}
