import { describe, expect, it } from "vitest";
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
} from "./s3xml";

const NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"';

describe("S3 XML", () => {
  it("reads a ListObjectsV2 page: folders, objects, continuation", () => {
    const page = parseListObjects(`<?xml version="1.0" encoding="UTF-8"?>
      <ListBucketResult ${NS}><Name>b</Name><Prefix>a/</Prefix><KeyCount>3</KeyCount>
      <IsTruncated>true</IsTruncated><NextContinuationToken>tok+1=</NextContinuationToken>
      <Contents><Key>a/x &amp; y.txt</Key><LastModified>2024-05-01T10:00:00.000Z</LastModified>
      <ETag>"abc"</ETag><Size>42</Size></Contents>
      <CommonPrefixes><Prefix>a/sub/</Prefix></CommonPrefixes></ListBucketResult>`);
    expect(page).toEqual({
      folders: ["a/sub/"],
      objects: [
        {
          key: "a/x & y.txt",
          sizeBytes: 42,
          lastModified: "2024-05-01T10:00:00.000Z",
          etag: '"abc"',
        },
      ],
      nextToken: "tok+1=",
    });
    const last = parseListObjects(`<ListBucketResult><IsTruncated>false</IsTruncated>
      </ListBucketResult>`);
    expect(last).toEqual({ folders: [], objects: [], nextToken: null });
  });

  it("writes and reads tags, escaping what XML reserves", () => {
    const body = buildTagging([{ key: "a<b", value: "x&y" }]);
    expect(body).toBe(
      "<Tagging><TagSet><Tag><Key>a&#60;b</Key><Value>x&#38;y</Value></Tag></TagSet></Tagging>",
    );
    expect(parseTagging(body)).toEqual([{ key: "a<b", value: "x&y" }]);
  });

  it("builds DeleteObjects and CompleteMultipartUpload bodies", () => {
    expect(buildDelete(["a", "b'c"])).toBe(
      "<Delete><Quiet>false</Quiet><Object><Key>a</Key></Object>" +
        "<Object><Key>b&#39;c</Key></Object></Delete>",
    );
    expect(buildCompleteMultipart(['"e1"', '"e2"'])).toBe(
      "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>&#34;e1&#34;</ETag></Part>" +
        "<Part><PartNumber>2</PartNumber><ETag>&#34;e2&#34;</ETag></Part></CompleteMultipartUpload>",
    );
  });

  it("reads DeleteObjects results, upload ids, versions and errors", () => {
    expect(
      parseDeleteResult(`<DeleteResult ${NS}><Deleted><Key>a</Key></Deleted>
        <Error><Key>b</Key><Code>AccessDenied</Code><Message>no</Message></Error></DeleteResult>`),
    ).toEqual({ deleted: ["a"], errors: [{ key: "b", code: "AccessDenied", message: "no" }] });
    expect(
      parseUploadId(`<InitiateMultipartUploadResult ${NS}><Bucket>b</Bucket><Key>k</Key>
        <UploadId>u-1</UploadId></InitiateMultipartUploadResult>`),
    ).toBe("u-1");
    const versions = parseListVersions(`<ListVersionsResult ${NS}>
      <Version><Key>k</Key><VersionId>v2</VersionId><IsLatest>true</IsLatest>
      <LastModified>2024-01-02T00:00:00Z</LastModified><Size>3</Size></Version>
      <DeleteMarker><Key>k</Key><VersionId>v1</VersionId><IsLatest>false</IsLatest>
      <LastModified>2024-01-01T00:00:00Z</LastModified></DeleteMarker></ListVersionsResult>`);
    expect(
      versions.map((version) => [version.versionId, version.isLatest, version.deleteMarker]),
    ).toEqual([
      ["v2", true, false],
      ["v1", false, true],
    ]);
    expect(parseError("<Error><Code>NoSuchKey</Code><Message>gone</Message></Error>", 404)).toEqual(
      { code: "NoSuchKey", message: "gone" },
    );
    expect(parseError("", 403)).toEqual({ code: "HTTP403", message: "HTTP 403" });
  });
});
