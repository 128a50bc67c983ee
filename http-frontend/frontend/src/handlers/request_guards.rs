//! Request headers the server must honour or refuse, checked once for every operation before
//! its handler runs. A header S3 defines changes what the client believes happened (an ACL
//! granted, an append, a conditional delete, a customer key kept secret in transit), so one
//! this server cannot honour is refused with S3's answer, never ignored.

use s3_proto::error::{S3Error, S3ErrorCode};

use crate::exchange::Exchange;

/// Every guard, in the order a client would fix them.
pub fn refuse_unhonoured(exchange: &Exchange<'_>) -> Result<(), S3Error> {
    refuse_customer_keys_over_plain_http(exchange)?;
    refuse_mfa(exchange)?;
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
