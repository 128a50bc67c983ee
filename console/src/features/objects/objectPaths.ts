// Folder and upload arithmetic of the object browser: folders are key prefixes ending in "/"
// (S3 has no folders; ListObjectsV2 with delimiter "/" groups keys into CommonPrefixes).

export const DELIMITER = "/";
/** Keys per ListObjectsV2 page (S3's maximum): "Load more" fetches the next one. */
export const LIST_PAGE_KEYS = 1000;
/** Files above this size go up in parts (multipart upload); smaller ones in one PUT. */
export const MULTIPART_THRESHOLD_BYTES = 16 * 1024 * 1024;
/** Smallest part the browser sends: S3's 5 MiB minimum, rounded up to fewer requests. */
export const PART_SIZE_BYTES_MIN = 8 * 1024 * 1024;
/** S3's limit of parts per upload. */
export const PART_COUNT_MAX = 10_000;

export interface Crumb {
  label: string;
  prefix: string;
}

/** The path from the bucket's root to `prefix`, one crumb per folder. */
export function breadcrumbs(bucket: string, prefix: string): Crumb[] {
  const crumbs: Crumb[] = [{ label: bucket, prefix: "" }];
  let at = 0;
  while (at < prefix.length) {
    const end = prefix.indexOf(DELIMITER, at);
    if (end === -1) break;
    crumbs.push({ label: prefix.slice(at, end), prefix: prefix.slice(0, end + 1) });
    at = end + 1;
  }
  return crumbs;
}

/** What a row shows for `key` inside the folder `prefix` ("a/b/" in "a/" shows "b/"). */
export function displayName(key: string, prefix: string): string {
  return key.startsWith(prefix) ? key.slice(prefix.length) : key;
}

/** A folder prefix as the URL and the list want it: "" or ending in one "/". */
export function normalizeFolder(prefix: string): string {
  if (prefix === "") return "";
  return prefix.endsWith(DELIMITER) ? prefix : prefix + DELIMITER;
}

/** The key of a file dropped or picked into `folder`: its path inside what was dropped
 * (webkitRelativePath for a folder), without leading slashes. */
export function uploadKey(folder: string, relativePath: string): string {
  return normalizeFolder(folder) + relativePath.replace(/^\/+/, "");
}

export interface PartPlan {
  partSizeBytes: number;
  partCount: number;
}

/** Parts of a multipart upload of `sizeBytes`: at least `PART_SIZE_BYTES_MIN` each, at most
 * `PART_COUNT_MAX` of them (so the part size grows with the file, in whole MiB). */
export function planParts(sizeBytes: number): PartPlan {
  const mebibyte = 1024 * 1024;
  const needed = Math.ceil(sizeBytes / PART_COUNT_MAX / mebibyte) * mebibyte;
  const partSizeBytes = Math.max(PART_SIZE_BYTES_MIN, needed);
  return { partSizeBytes, partCount: Math.max(1, Math.ceil(sizeBytes / partSizeBytes)) };
}

/** Folders first, then objects, each sorted on the chosen column. */
export type SortKey = "name" | "size" | "modified";

export interface Entry {
  kind: "folder" | "object";
  key: string;
  sizeBytes: number;
  lastModified: string;
}

export function sortEntries(entries: Entry[], by: SortKey, descending: boolean): Entry[] {
  const sign = descending ? -1 : 1;
  const compare = (left: Entry, right: Entry): number => {
    if (left.kind !== right.kind) return left.kind === "folder" ? -1 : 1;
    let order = 0;
    if (by === "size") order = left.sizeBytes - right.sizeBytes;
    if (by === "modified") order = left.lastModified.localeCompare(right.lastModified);
    if (order === 0) order = left.key < right.key ? -1 : left.key > right.key ? 1 : 0;
    return sign * order;
  };
  return [...entries].sort(compare);
}
