//! S3 requests signed with `s3_proto::sigv4::sign` (header form), over [`crate::http`].

use std::fmt::Write as _;
use std::io;
use std::time::{SystemTime, UNIX_EPOCH};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use s3_proto::sigv4::SignedRequest;
use s3_proto::sigv4::sign::{Signer, UNSIGNED_PAYLOAD, amz_date};
use sha2::{Digest, Sha256};

use crate::http::{Connection, Response};

/// RFC 3986 unreserved characters stay; everything else is `%XX` (what SigV4 expects).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');
/// Keys keep `/` as a path separator.
const KEY_PATH: &AsciiSet = &QUERY_VALUE.remove(b'/');
/// Most listing pages followed in one LIST operation (1,000 keys each).
const LIST_PAGES_MAX: usize = 10_000;
/// Most parts of one multipart upload (the S3 limit).
pub const PARTS_MAX: u64 = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum PayloadSigning {
    /// `x-amz-content-sha256: UNSIGNED-PAYLOAD` (what presigned URLs and most SDKs over TLS do).
    Unsigned,
    /// The body's SHA-256 is computed by the client and checked by the server.
    Signed,
}

/// Credentials and endpoint, shared read-only by every worker.
#[derive(Clone, Debug)]
pub struct Target {
    /// `host:port` for the TCP connection and the `Host` header.
    pub address: String,
    pub access_key: String,
    pub secret_key: String,
    pub region: String,
    pub bucket: String,
    pub payload: PayloadSigning,
}

/// One worker's client: a connection and a signer refreshed when the day changes.
pub struct Client {
    target: Target,
    connection: Connection,
    signer: Option<Signer>,
    head: Vec<u8>,
    kept: Vec<u8>,
}

impl Client {
    pub fn new(target: &Target) -> Client {
        Client {
            connection: Connection::new(&target.address),
            target: target.clone(),
            signer: None,
            head: Vec::with_capacity(1024),
            kept: Vec::new(),
        }
    }

    /// Builds, signs and sends one request; the response body is kept in `self.kept` when
    /// `keep_body`.
    fn send(
        &mut self,
        method: &str,
        path: &str,
        query: &str,
        body: &[u8],
        keep_body: bool,
    ) -> io::Result<Response> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_err(io::Error::other)?
            .as_secs();
        let date = amz_date(i64::try_from(now).map_err(io::Error::other)?)
            .ok_or_else(|| io::Error::other("clock out of range"))?;
        if !self
            .signer
            .as_ref()
            .is_some_and(|signer| signer.covers(&date))
        {
            self.signer = Some(
                Signer::new(
                    &self.target.access_key,
                    &self.target.secret_key,
                    &self.target.region,
                    &date,
                )
                .map_err(io::Error::other)?,
            );
        }
        let signer = self
            .signer
            .as_ref()
            .ok_or_else(|| io::Error::other("no signer"))?;
        let payload_hash = match self.target.payload {
            PayloadSigning::Unsigned => UNSIGNED_PAYLOAD.to_owned(),
            PayloadSigning::Signed => hex::encode(Sha256::digest(body)),
        };
        let headers: [(&str, &[u8]); 3] = [
            ("host", self.target.address.as_bytes()),
            ("x-amz-content-sha256", payload_hash.as_bytes()),
            ("x-amz-date", date.as_bytes()),
        ];
        let request = SignedRequest {
            method,
            raw_path: path,
            raw_query: query,
            headers: &headers,
        };
        let authorization = signer
            .authorization(
                &request,
                "host;x-amz-content-sha256;x-amz-date",
                &date,
                &payload_hash,
            )
            .map_err(io::Error::other)?;
        let head = &mut self.head;
        head.clear();
        head.extend_from_slice(method.as_bytes());
        head.push(b' ');
        head.extend_from_slice(path.as_bytes());
        if !query.is_empty() {
            head.push(b'?');
            head.extend_from_slice(query.as_bytes());
        }
        head.extend_from_slice(b" HTTP/1.1\r\n");
        for (name, value) in headers {
            head.extend_from_slice(name.as_bytes());
            head.extend_from_slice(b": ");
            head.extend_from_slice(value);
            head.extend_from_slice(b"\r\n");
        }
        head.extend_from_slice(b"authorization: ");
        head.extend_from_slice(authorization.as_bytes());
        head.extend_from_slice(b"\r\n");
        if !body.is_empty() || method == "PUT" || method == "POST" {
            head.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
        }
        head.extend_from_slice(b"\r\n");
        self.kept.clear();
        let kept = keep_body.then_some(&mut self.kept);
        self.connection
            .request(&self.head, body, method == "HEAD", kept)
    }

    fn object_path(&self, key: &str) -> String {
        format!(
            "/{}/{}",
            self.target.bucket,
            utf8_percent_encode(key, KEY_PATH)
        )
    }

    /// Creates the bucket; an existing one is fine (s3s-fs answers BucketAlreadyExists even
    /// to its owner).
    pub fn create_bucket(&mut self) -> io::Result<()> {
        let path = format!("/{}", self.target.bucket);
        let response = self.send("PUT", &path, "", b"", true)?;
        let body = String::from_utf8_lossy(&self.kept);
        if response.status == 200
            || body.contains("BucketAlreadyOwnedByYou")
            || body.contains("BucketAlreadyExists")
        {
            Ok(())
        } else {
            Err(io::Error::other(format!(
                "create bucket: HTTP {}: {body}",
                response.status
            )))
        }
    }

    /// Turns versioning on for the bucket (PutBucketVersioning, `Enabled`); a server that
    /// answers anything but 200 (501 where versioning does not exist) is an error.
    pub fn enable_versioning(&mut self) -> io::Result<()> {
        let path = format!("/{}", self.target.bucket);
        let body = b"<VersioningConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
                     <Status>Enabled</Status></VersioningConfiguration>";
        let response = self.send("PUT", &path, "versioning=", body, true)?;
        if response.status == 200 {
            Ok(())
        } else {
            Err(io::Error::other(format!(
                "put bucket versioning: HTTP {}: {}",
                response.status,
                String::from_utf8_lossy(&self.kept)
            )))
        }
    }

    pub fn put(&mut self, key: &str, body: &[u8]) -> io::Result<Response> {
        let path = self.object_path(key);
        self.send("PUT", &path, "", body, false)
    }

    pub fn get(&mut self, key: &str) -> io::Result<Response> {
        let path = self.object_path(key);
        self.send("GET", &path, "", b"", false)
    }

    pub fn head(&mut self, key: &str) -> io::Result<Response> {
        let path = self.object_path(key);
        self.send("HEAD", &path, "", b"", false)
    }

    pub fn delete(&mut self, key: &str) -> io::Result<Response> {
        let path = self.object_path(key);
        self.send("DELETE", &path, "", b"", false)
    }

    /// Lists every key under `prefix` (ListObjectsV2, 1,000 per page); returns the last
    /// response with `body_bytes` summed over pages, and the number of keys seen.
    pub fn list_all(&mut self, prefix: &str) -> io::Result<(Response, u64)> {
        let path = format!("/{}", self.target.bucket);
        let mut token: Option<String> = None;
        let mut keys = 0_u64;
        let mut body_bytes = 0_u64;
        for _ in 0..LIST_PAGES_MAX {
            let mut query = String::from("list-type=2&max-keys=1000");
            if let Some(token) = &token {
                let _ = write!(
                    query,
                    "&continuation-token={}",
                    utf8_percent_encode(token, QUERY_VALUE)
                );
            }
            let _ = write!(
                query,
                "&prefix={}",
                utf8_percent_encode(prefix, QUERY_VALUE)
            );
            let mut response = self.send("GET", &path, &query, b"", true)?;
            body_bytes += response.body_bytes;
            if response.status != 200 {
                return Ok((response, keys));
            }
            let body = String::from_utf8_lossy(&self.kept);
            keys += body.matches("<Key>").count() as u64;
            token = xml_text(&body, "NextContinuationToken");
            if xml_text(&body, "IsTruncated").as_deref() != Some("true") || token.is_none() {
                response.body_bytes = body_bytes;
                return Ok((response, keys));
            }
        }
        Err(io::Error::other("listing did not end"))
    }

    /// Lists every version and delete marker under `prefix` (ListObjectVersions, 1,000 per
    /// page, following `NextKeyMarker` / `NextVersionIdMarker`); returns the last response with
    /// `body_bytes` summed over pages, and the number of entries seen.
    pub fn list_versions_all(&mut self, prefix: &str) -> io::Result<(Response, u64)> {
        let path = format!("/{}", self.target.bucket);
        let mut markers: Option<(String, Option<String>)> = None;
        let mut entries = 0_u64;
        let mut body_bytes = 0_u64;
        for _ in 0..LIST_PAGES_MAX {
            let mut query = String::from("versions=&max-keys=1000");
            let _ = write!(
                query,
                "&prefix={}",
                utf8_percent_encode(prefix, QUERY_VALUE)
            );
            if let Some((key_marker, version_id_marker)) = &markers {
                let _ = write!(
                    query,
                    "&key-marker={}",
                    utf8_percent_encode(key_marker, QUERY_VALUE)
                );
                if let Some(version_id_marker) = version_id_marker {
                    let _ = write!(
                        query,
                        "&version-id-marker={}",
                        utf8_percent_encode(version_id_marker, QUERY_VALUE)
                    );
                }
            }
            let mut response = self.send("GET", &path, &query, b"", true)?;
            body_bytes += response.body_bytes;
            if response.status != 200 {
                return Ok((response, entries));
            }
            let body = String::from_utf8_lossy(&self.kept);
            entries +=
                (body.matches("<Version>").count() + body.matches("<DeleteMarker>").count()) as u64;
            let next_key = xml_text(&body, "NextKeyMarker");
            if xml_text(&body, "IsTruncated").as_deref() != Some("true") || next_key.is_none() {
                response.body_bytes = body_bytes;
                return Ok((response, entries));
            }
            markers = next_key.map(|key| (key, xml_text(&body, "NextVersionIdMarker")));
        }
        Err(io::Error::other("version listing did not end"))
    }

    /// CreateMultipartUpload, `ceil(body/part)` UploadPart calls, CompleteMultipartUpload.
    /// Returns the first failing response, or the Complete response.
    pub fn multipart(&mut self, key: &str, body: &[u8], part_size: usize) -> io::Result<Response> {
        let path = self.object_path(key);
        let created = self.send("POST", &path, "uploads=", b"", true)?;
        if created.status != 200 {
            return Ok(created);
        }
        let upload_id = xml_text(&String::from_utf8_lossy(&self.kept), "UploadId")
            .ok_or_else(|| io::Error::other("no UploadId in CreateMultipartUpload"))?;
        let upload_id_query = utf8_percent_encode(&upload_id, QUERY_VALUE).to_string();
        let mut complete = String::from("<CompleteMultipartUpload>");
        let part_count = body.len().div_ceil(part_size.max(1)).max(1);
        if part_count as u64 > PARTS_MAX {
            return Err(io::Error::other("more than 10,000 parts"));
        }
        for index in 0..part_count {
            let start = index * part_size;
            let piece = &body[start..body.len().min(start + part_size)];
            let number = index + 1;
            let query = format!("partNumber={number}&uploadId={upload_id_query}");
            let response = self.send("PUT", &path, &query, piece, false)?;
            if response.status != 200 {
                return Ok(response);
            }
            let etag = response
                .etag
                .ok_or_else(|| io::Error::other("UploadPart without ETag"))?;
            let _ = write!(
                complete,
                "<Part><PartNumber>{number}</PartNumber><ETag>{etag}</ETag></Part>"
            );
        }
        complete.push_str("</CompleteMultipartUpload>");
        let query = format!("uploadId={upload_id_query}");
        let mut response = self.send("POST", &path, &query, complete.as_bytes(), true)?;
        // S3 may answer 200 with an error document once it started the response.
        if response.status == 200 && String::from_utf8_lossy(&self.kept).contains("<Error>") {
            response.status = 500;
        }
        Ok(response)
    }
}

/// The text of the first `<tag>...</tag>`, unescaped for the few entities S3 uses.
fn xml_text(document: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = document.find(&open)? + open.len();
    let end = start + document[start..].find(&close)?;
    Some(
        document[start..end]
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

#[cfg(test)]
mod tests {
    use super::xml_text;

    #[test]
    fn xml_text_finds_and_unescapes() {
        let doc = "<R><IsTruncated>true</IsTruncated><NextContinuationToken>a&amp;b\
                   </NextContinuationToken></R>";
        assert_eq!(xml_text(doc, "IsTruncated").as_deref(), Some("true"));
        assert_eq!(
            xml_text(doc, "NextContinuationToken").as_deref(),
            Some("a&b")
        );
        assert_eq!(xml_text(doc, "UploadId"), None);
    }
}
