//! Request headers the server must honour or refuse, checked once for every operation before
//! its handler runs. A header S3 defines changes what the client believes happened (an ACL
//! granted, an append, a conditional delete, a customer key kept secret in transit), so one
//! this server cannot honour is refused with S3's answer, never ignored.

use s3_proto::error::{S3Error, S3ErrorCode};
use s3_proto::router::Operation;

use crate::exchange::Exchange;

/// Every guard, in the order a client would fix them.
pub fn refuse_unhonoured(exchange: &Exchange<'_>) -> Result<(), S3Error> {
    refuse_customer_keys_over_plain_http(exchange)?;
    refuse_mfa(exchange)?;
    refuse_acls(exchange)?;
    refuse_directory_bucket_headers(exchange)
}

/// Whether SSE-C headers may travel on this connection: always over TLS, over plain HTTP only
/// when a flag or setting says so (AWS refuses them, since the key would cross in clear).
pub(crate) fn customer_keys_allowed(exchange: &Exchange<'_>) -> bool {
    let context = exchange.context;
    exchange.connection.is_tls()
        || context.settings.sse_c_allow_http
        || context
            .dynamic_settings()
            .flag(control::settings::keys::SSE_C_ALLOW_HTTP, false)
}

/// A customer key (the object's or a copy source's) sent in clear is refused whatever the
/// operation: even where the key is not needed (ListParts, Complete) it has been exposed, and
/// S3 answers the same.
fn refuse_customer_keys_over_plain_http(exchange: &Exchange<'_>) -> Result<(), S3Error> {
    let carries_key = exchange.head.headers.iter().any(|(name, _)| {
        name.starts_with("x-amz-server-side-encryption-customer-")
            || name.starts_with("x-amz-copy-source-server-side-encryption-customer-")
    });
    if carries_key && !customer_keys_allowed(exchange) {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "Requests specifying Server Side Encryption with Customer provided keys must be \
             made over a secure connection.",
        ));
    }
    Ok(())
}

/// MFA delete is not supported: a request that carries `x-amz-mfa` (DeleteObject,
/// DeleteObjects, PutBucketVersioning) is refused, as S3 refuses it on a bucket without MFA
/// delete, rather than having the header ignored.
fn refuse_mfa(exchange: &Exchange<'_>) -> Result<(), S3Error> {
    if exchange.head.has_header("x-amz-mfa") {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "MFA delete is not enabled on this bucket and is not supported by this server",
        ));
    }
    Ok(())
}

/// Buckets have ACLs disabled (Object Ownership `BucketOwnerEnforced`, AWS's default since
/// April 2023): a write may name no ACL, the canned ACL that gives the owner full control
/// (`bucket-owner-full-control`, or `private`, its equivalent when writer and owner are one
/// account), or grants to the owner alone. Anything else is refused as AWS refuses it.
fn refuse_acls(exchange: &Exchange<'_>) -> Result<(), S3Error> {
    let code = match exchange.route.operation {
        Operation::CreateBucket => {
            refuse_acl_enabling_ownership(exchange)?;
            S3ErrorCode::InvalidBucketAclWithObjectOwnership
        }
        Operation::PutObject
        | Operation::CopyObject
        | Operation::CreateMultipartUpload
        | Operation::PutBucketAcl
        | Operation::PutObjectAcl => S3ErrorCode::AccessControlListNotSupported,
        _ => return Ok(()),
    };
    let canned_ok = exchange
        .head
        .header_str("x-amz-acl")
        .is_none_or(owner_only_acl);
    let owner = crate::handlers::bucket::owner(exchange).id;
    let grants_ok = exchange
        .head
        .headers
        .iter()
        .filter(|(name, _)| name.starts_with("x-amz-grant-"))
        .all(|(name, value)| name == "x-amz-grant-full-control" && names_only(value, &owner));
    if canned_ok && grants_ok {
        Ok(())
    } else {
        Err(S3Error::new(code))
    }
}

/// `x-amz-object-ownership` on CreateBucket: any setting but `BucketOwnerEnforced` turns
/// ACLs on, which this server cannot honour (handlers/access.rs).
fn refuse_acl_enabling_ownership(exchange: &Exchange<'_>) -> Result<(), S3Error> {
    match exchange
        .head
        .header_str("x-amz-object-ownership")
        .map(str::trim)
    {
        None | Some("BucketOwnerEnforced") => Ok(()),
        Some(_) => Err(crate::handlers::access::acls_not_built()),
    }
}

/// A canned ACL (`x-amz-acl`, or a POST form's `acl` field) that gives the owner full control
/// and no one else anything.
pub(crate) fn owner_only_acl(acl: &str) -> bool {
    let acl = acl.trim();
    acl.eq_ignore_ascii_case("private") || acl.eq_ignore_ascii_case("bucket-owner-full-control")
}

/// A grant header's value (`id="..."`, comma separated) names only the account `owner`.
fn names_only(value: &[u8], owner: &str) -> bool {
    let Ok(value) = std::str::from_utf8(value) else {
        return false;
    };
    value.split(',').all(|grantee| {
        grantee
            .trim()
            .strip_prefix("id=")
            .is_some_and(|id| id.trim_matches('"') == owner)
    })
}

/// Headers S3 honours on directory buckets only: an append (`x-amz-write-offset-bytes`) and
/// conditions on a delete or an abort. Ignoring one would overwrite where the client asked to
/// append, or delete what the condition protected, so they are refused as not implemented.
fn refuse_directory_bucket_headers(exchange: &Exchange<'_>) -> Result<(), S3Error> {
    const DIRECTORY_BUCKET_ONLY: [&str; 4] = [
        "x-amz-write-offset-bytes",
        "x-amz-if-match-initiated-time",
        "x-amz-if-match-last-modified-time",
        "x-amz-if-match-size",
    ];
    match DIRECTORY_BUCKET_ONLY
        .into_iter()
        .find(|name| exchange.head.has_header(name))
    {
        Some(name) => Err(S3Error::with_message(
            S3ErrorCode::NotImplemented,
            format!("{name} is supported on directory buckets only"),
        )),
        None => Ok(()),
    }
}
