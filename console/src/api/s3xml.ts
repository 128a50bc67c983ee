// The S3 API's XML, read with the browser's DOMParser and written by hand (the bodies the
// object browser sends are small and few). Element names are S3's; parsing is namespace-blind
// (`getElementsByTagName` on local names), as S3 servers differ in whether they send one.

export interface ListedObject {
  key: string;
  sizeBytes: number;
  lastModified: string;
  etag: string;
}

export interface ListPage {
  /** Common prefixes ("folders"), each ending with the delimiter. */
  folders: string[];
  objects: ListedObject[];
  /** Continuation token of the next page; null on the last one. */
  nextToken: string | null;
}

export interface Tag {
  key: string;
  value: string;
}

export interface DeleteResult {
  deleted: string[];
  errors: { key: string; code: string; message: string }[];
}

export interface ObjectVersion {
  key: string;
  versionId: string;
  isLatest: boolean;
  deleteMarker: boolean;
  sizeBytes: number;
  lastModified: string;
}

function parse(text: string): Document {
  const document = new DOMParser().parseFromString(text, "application/xml");
  if (document.getElementsByTagName("parsererror").length > 0) {
    throw new Error("the S3 answer is not XML");
  }
  return document;
}

/** The text of `parent`'s first direct child named `name` ("" when absent). */
function child(parent: Element, name: string): string {
  for (const element of Array.from(parent.children)) {
    if (element.localName === name) return element.textContent ?? "";
  }
  return "";
}

function all(document: Document | Element, name: string): Element[] {
  return Array.from(document.getElementsByTagName(name));
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

export function parseListObjects(text: string): ListPage {
  const root = parse(text).documentElement;
  const truncated = child(root, "IsTruncated") === "true";
  const token = child(root, "NextContinuationToken");
  return {
    folders: all(root, "CommonPrefixes").map((element) => child(element, "Prefix")),
    objects: all(root, "Contents").map((element) => ({
      key: child(element, "Key"),
      sizeBytes: Number(child(element, "Size")),
      lastModified: child(element, "LastModified"),
      etag: child(element, "ETag"),
    })),
    nextToken: truncated && token ? token : null,
  };
}

export function parseListVersions(text: string): ObjectVersion[] {
  const root = parse(text).documentElement;
  return Array.from(root.children)
    .filter((element) => element.localName === "Version" || element.localName === "DeleteMarker")
    .map((element) => ({
      key: child(element, "Key"),
      versionId: child(element, "VersionId"),
      isLatest: child(element, "IsLatest") === "true",
      deleteMarker: element.localName === "DeleteMarker",
      sizeBytes: Number(child(element, "Size") || 0),
      lastModified: child(element, "LastModified"),
    }));
}

export function parseTagging(text: string): Tag[] {
  return all(parse(text), "Tag").map((element) => ({
    key: child(element, "Key"),
    value: child(element, "Value"),
  }));
}

export function buildTagging(tags: Tag[]): string {
  const items = tags
    .map(
      (tag) => `<Tag><Key>${escapeXml(tag.key)}</Key><Value>${escapeXml(tag.value)}</Value></Tag>`,
    )
    .join("");
  return `<Tagging><TagSet>${items}</TagSet></Tagging>`;
}

export function parseUploadId(text: string): string {
  const uploadId = child(parse(text).documentElement, "UploadId");
  if (!uploadId) throw new Error("CreateMultipartUpload answered no UploadId");
  return uploadId;
}

export function buildCompleteMultipart(etags: string[]): string {
  const parts = etags
    .map(
      (etag, idx) =>
        `<Part><PartNumber>${idx + 1}</PartNumber><ETag>${escapeXml(etag)}</ETag></Part>`,
    )
    .join("");
  return `<CompleteMultipartUpload>${parts}</CompleteMultipartUpload>`;
}

export function buildDelete(keys: string[]): string {
  const objects = keys.map((key) => `<Object><Key>${escapeXml(key)}</Key></Object>`).join("");
  return `<Delete><Quiet>false</Quiet>${objects}</Delete>`;
}

export function parseDeleteResult(text: string): DeleteResult {
  const document = parse(text);
  return {
    deleted: all(document, "Deleted").map((element) => child(element, "Key")),
    errors: all(document, "Error").map((element) => ({
      key: child(element, "Key"),
      code: child(element, "Code"),
      message: child(element, "Message"),
    })),
  };
}

/** An S3 error answer's code and message; a body that is not S3's XML gives HTTP<status>. */
export function parseError(text: string, status: number): { code: string; message: string } {
  try {
    const root = parse(text).documentElement;
    const code = child(root, "Code");
    if (code) return { code, message: child(root, "Message") || code };
  } catch {
    // Not XML (a proxy's page, or an empty HEAD answer): the status stands in.
  }
  return { code: `HTTP${status}`, message: `HTTP ${status}` };
}
