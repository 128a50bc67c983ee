import { describe, expect, it } from "vitest";
import {
  breadcrumbs,
  displayName,
  normalizeFolder,
  PART_COUNT_MAX,
  PART_SIZE_BYTES_MIN,
  planParts,
  sortEntries,
  uploadKey,
  type Entry,
} from "./objectPaths";

const MiB = 1024 * 1024;

describe("folders", () => {
  it("breadcrumbs go from the bucket to each folder of the prefix", () => {
    expect(breadcrumbs("photos", "")).toEqual([{ label: "photos", prefix: "" }]);
    expect(breadcrumbs("photos", "2024/summer/")).toEqual([
      { label: "photos", prefix: "" },
      { label: "2024", prefix: "2024/" },
      { label: "summer", prefix: "2024/summer/" },
    ]);
    // A trailing partial name is a search, not a folder.
    expect(breadcrumbs("b", "a/bc").map((crumb) => crumb.prefix)).toEqual(["", "a/"]);
  });

  it("rows show names inside the folder, keys go under it", () => {
    expect(displayName("a/b/c.txt", "a/b/")).toBe("c.txt");
    expect(displayName("a/b/", "a/")).toBe("b/");
    expect(normalizeFolder("a/b")).toBe("a/b/");
    expect(normalizeFolder("")).toBe("");
    expect(uploadKey("docs/", "/sub/x.txt")).toBe("docs/sub/x.txt");
    expect(uploadKey("", "x.txt")).toBe("x.txt");
  });

  it("folders come first whatever the sort", () => {
    const entries: Entry[] = [
      { kind: "object", key: "b.txt", sizeBytes: 5, lastModified: "2024-01-02" },
      { kind: "folder", key: "z/", sizeBytes: 0, lastModified: "" },
      { kind: "object", key: "a.txt", sizeBytes: 9, lastModified: "2024-01-01" },
    ];
    const keys = (by: "name" | "size" | "modified", descending: boolean) =>
      sortEntries(entries, by, descending).map((entry) => entry.key);
    expect(keys("name", false)).toEqual(["z/", "a.txt", "b.txt"]);
    expect(keys("size", true)).toEqual(["z/", "a.txt", "b.txt"]);
    expect(keys("modified", true)).toEqual(["z/", "b.txt", "a.txt"]);
  });
});

describe("multipart part planning", () => {
  it("uses the minimum part size until the part count would pass S3's limit", () => {
    expect(planParts(20 * MiB)).toEqual({ partSizeBytes: PART_SIZE_BYTES_MIN, partCount: 3 });
    expect(planParts(16 * MiB)).toEqual({ partSizeBytes: PART_SIZE_BYTES_MIN, partCount: 2 });
    const huge = planParts(5 * 1024 * 1024 * MiB);
    expect(huge.partCount).toBeLessThanOrEqual(PART_COUNT_MAX);
    expect(huge.partSizeBytes % MiB).toBe(0);
    expect(huge.partSizeBytes * huge.partCount).toBeGreaterThanOrEqual(5 * 1024 * 1024 * MiB);
  });
});
