"""ListObjectsV2 against a locally computed reference listing.

Every page-walk below checks that each expected key and common prefix appears exactly once,
in UTF-8 byte order, that pages are full until the last one, and that KeyCount, IsTruncated
and NextContinuationToken agree with the page contents.
"""

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote_plus

import pytest

from harness import unique_bucket_name
from s3util import expect_error, expected_listing, md5_hex, quoted, raw_request, s3_sort_key, xml_texts

SPECIAL_KEYS = [
    "a", "a/", "a/b", "a-", "a0", "A", "dir1", "dir1-sibling", "dir1/sub1",
    "é", "é/x", "e\u0301/combining", "ü/ä", "日本/語", "emoji🎉/k", "z", "~tilde",
    "sp ace/x", "per%cent/y", "plu+s/z", "double//slash",
]  # fmt: skip

ENCODING_KEYS = ["a b", "a+b", "a%b", "a%2Fb", "ü", "x/y z/w", "semi;colon", "amp&lt", "q?h#"]


def build_keys(total: int = 2500) -> list[str]:
    keys = [f"dir{i % 4}/sub{i % 9}/file{i:05d}" for i in range(2200)]
    keys += [f"top{i:04d}" for i in range(200)]
    keys += SPECIAL_KEYS
    keys += [f"fill/{i}" for i in range(total - len(keys))]
    assert len(set(keys)) == total
    return keys


def put_keys(s3, bucket: str, keys: list[str]):
    def put(key):
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, keys))


@pytest.fixture(scope="module")
def big_bucket(s3):
    """A bucket holding 2,500 keys (shared, read-only for the tests of this module)."""
    name = unique_bucket_name("list")
    keys = build_keys()
    s3.create_bucket(Bucket=name)
    put_keys(s3, name, keys)
    yield name, keys
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: s3.delete_object(Bucket=name, Key=k), keys))
    s3.delete_bucket(Bucket=name)


def list_pages(s3, bucket: str, max_keys: int | None = None, **params) -> list[dict]:
    """All pages of a ListObjectsV2 walk, following continuation tokens."""
    pages, token = [], None
    while True:
        args = dict(Bucket=bucket, **params)
        if max_keys is not None:
            args["MaxKeys"] = max_keys
        if token:
            args["ContinuationToken"] = token
        page = s3.list_objects_v2(**args)
        pages.append(page)
        if not page["IsTruncated"]:
            return pages
        token = page["NextContinuationToken"]
        assert token, "IsTruncated without NextContinuationToken"
        assert len(pages) <= 5000, "listing does not terminate"


def check_walk(pages: list[dict], expected, max_keys: int):
    seen_keys, seen_prefixes, seen_merged = [], [], []
    for number, page in enumerate(pages, 1):
        keys = [c["Key"] for c in page.get("Contents", [])]
        prefixes = [p["Prefix"] for p in page.get("CommonPrefixes", [])]
        count = len(keys) + len(prefixes)
        where = f"page {number}/{len(pages)}"
        assert page["KeyCount"] == count, where
        assert page["MaxKeys"] == max_keys, where
        assert count <= max_keys, where
        if number < len(pages):
            assert page["IsTruncated"] and count == max_keys, f"{where} is not full"
        else:
            assert not page["IsTruncated"] and "NextContinuationToken" not in page, where
        assert keys == sorted(keys, key=s3_sort_key), where
        assert prefixes == sorted(prefixes, key=s3_sort_key), where
        seen_keys += keys
        seen_prefixes += prefixes
        seen_merged += sorted(keys + prefixes, key=s3_sort_key)
    assert seen_keys == expected.keys
    assert seen_prefixes == expected.prefixes
    assert seen_merged == expected.merged()


def test_full_listing_default_page_size(s3, big_bucket):
    bucket, keys = big_bucket
    pages = list_pages(s3, bucket)
    assert [p["KeyCount"] for p in pages] == [1000, 1000, 500]
    check_walk(pages, expected_listing(keys), 1000)


def test_max_keys_over_1000_is_capped(s3, big_bucket):
    bucket, _ = big_bucket
    page = s3.list_objects_v2(Bucket=bucket, MaxKeys=5000)
    assert page["KeyCount"] == 1000 and page["IsTruncated"]


@pytest.mark.parametrize(
    "prefix, delimiter, max_keys",
    [
        ("", "", 7),
        ("", "/", 7),
        ("", "/", 1000),
        ("dir1/", "/", 7),
        ("dir1/", "", 250),
        ("dir", "/", 1),
        ("dir2/sub3/", "/", 13),
        ("dir1", "/", 2),
        ("a", "/", 3),
        ("é", "/", 2),
        ("", "e", 50),  # a delimiter that is not '/'
        ("", "sub", 9),  # a multi-character delimiter
        ("missing/", "/", 7),
    ],
)
def test_paginated_walk(s3, big_bucket, prefix, delimiter, max_keys):
    bucket, keys = big_bucket
    pages = list_pages(s3, bucket, max_keys, Prefix=prefix, Delimiter=delimiter)
    for page in pages:
        assert page.get("Prefix", "") == prefix
        assert page.get("Delimiter", "") == delimiter
    check_walk(pages, expected_listing(keys, prefix, delimiter), max_keys)


@pytest.mark.parametrize(
    "prefix, delimiter, start_after, max_keys",
    [
        ("", "", "dir2/sub3/file00100", 400),
        ("", "", "dir2", 1000),
        ("dir1/", "", "dir1/sub5", 100),
        ("", "/", "dir2~", 5),
        ("", "", "top0199", 3),
        ("", "", "\U0010ffff", 10),  # after every key
        ("", "", "0", 1000),  # before every key
    ],
)
def test_start_after(s3, big_bucket, prefix, delimiter, start_after, max_keys):
    bucket, keys = big_bucket
    pages = list_pages(s3, bucket, max_keys, Prefix=prefix, Delimiter=delimiter, StartAfter=start_after)
    assert pages[0].get("StartAfter") == start_after
    check_walk(pages, expected_listing(keys, prefix, delimiter, start_after), max_keys)


def test_list_empty_bucket(s3, bucket):
    page = s3.list_objects_v2(Bucket=bucket)
    assert page["KeyCount"] == 0 and not page["IsTruncated"] and "Contents" not in page
    assert page["Name"] == bucket


def test_entry_fields(s3, bucket):
    body = b"0123456789" * 7
    s3.put_object(Bucket=bucket, Key="k", Body=body)
    entry = s3.list_objects_v2(Bucket=bucket)["Contents"][0]
    assert entry["Key"] == "k"
    assert entry["Size"] == len(body)
    assert entry["ETag"] == quoted(md5_hex(body))
    assert entry["StorageClass"] == "STANDARD"
    assert "Owner" not in entry


def test_fetch_owner(s3, bucket):
    s3.put_object(Bucket=bucket, Key="owned", Body=b"x")
    entry = s3.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"][0]
    assert entry["Owner"]["ID"]
    assert entry["Owner"]["ID"] == s3.list_buckets()["Owner"]["ID"]


def test_invalid_continuation_token(s3, bucket):
    expect_error(s3.list_objects_v2, 400, "InvalidArgument", Bucket=bucket, ContinuationToken="not-a-token!!")


@pytest.fixture
def encoding_bucket(s3, bucket):
    put_keys(s3, bucket, ENCODING_KEYS)
    return bucket


def test_boto3_decodes_url_encoded_keys(s3, encoding_bucket):
    """boto3 always asks for encoding-type=url and decodes: keys must come back exactly."""
    listed = [c["Key"] for c in s3.list_objects_v2(Bucket=encoding_bucket)["Contents"]]
    assert listed == sorted(ENCODING_KEYS, key=s3_sort_key)
    page = s3.list_objects_v2(Bucket=encoding_bucket, Prefix="x/y ", Delimiter="/")
    assert page["Prefix"] == "x/y "
    assert [p["Prefix"] for p in page["CommonPrefixes"]] == ["x/y z/"]


def test_raw_encoding_type_url(server, encoding_bucket):
    query = {"list-type": "2", "encoding-type": "url", "prefix": "", "start-after": "a b"}
    resp = raw_request(server, "GET", f"/{encoding_bucket}", query=query)
    assert resp.status == 200, resp.body
    assert xml_texts(resp.body, "EncodingType") == ["url"]
    raw_keys = xml_texts(resp.body, "Contents/Key")
    for raw in raw_keys:
        assert raw.isascii() and " " not in raw, f"key not URL-encoded: {raw!r}"
    expected = expected_listing(ENCODING_KEYS, start_after="a b").keys
    assert [unquote_plus(raw) for raw in raw_keys] == expected
    assert [unquote_plus(s) for s in xml_texts(resp.body, "StartAfter")] == ["a b"]


def test_raw_encoding_type_url_prefixes(server, encoding_bucket):
    query = {"list-type": "2", "encoding-type": "url", "prefix": "x/y ", "delimiter": "/"}
    resp = raw_request(server, "GET", f"/{encoding_bucket}", query=query)
    assert resp.status == 200, resp.body
    for path, value in (("Prefix", "x/y "), ("Delimiter", "/"), ("CommonPrefixes/Prefix", "x/y z/")):
        raws = xml_texts(resp.body, path)
        assert len(raws) == 1 and " " not in raws[0] and unquote_plus(raws[0]) == value, (path, raws)


def test_raw_without_encoding_type_keys_are_literal(server, encoding_bucket):
    resp = raw_request(server, "GET", f"/{encoding_bucket}", query={"list-type": "2"})
    assert resp.status == 200, resp.body
    assert xml_texts(resp.body, "Contents/Key") == sorted(ENCODING_KEYS, key=s3_sort_key)
    assert xml_texts(resp.body, "EncodingType") == []
