//! The ACL a request asks for (`x-amz-acl`, `x-amz-grant-*`, a POST form's `acl` field, an
//! `AccessControlPolicy` body), checked against the bucket's Object Ownership and public
//! access block: what is stored with a bucket or object version (`base::acl`).
//!
//! Grantees a request may name: the owner (the id `bucket::owner` reports) and S3's groups.
//! Another canonical id names no one this server knows (InvalidArgument), an e-mail address
//! cannot be resolved (UnresolvableGrantByEmailAddress), as on S3 for unknown grantees.

use base::acl::{Acl, GRANTS_MAX, Grant, Grantee, ObjectOwnership, Permission};
use s3_proto::error::{S3Error, S3ErrorCode};
use shard::BucketRecord;

use crate::exchange::Exchange;

const GRANT_HEADERS: [(&str, Permission); 5] = [
    ("x-amz-grant-read", Permission::Read),
    ("x-amz-grant-write", Permission::Write),
    ("x-amz-grant-read-acp", Permission::ReadAcp),
    ("x-amz-grant-write-acp", Permission::WriteAcp),
    ("x-amz-grant-full-control", Permission::FullControl),
];

/// The ACL the request's headers ask for; `None` when it sends neither `x-amz-acl` nor a
/// grant header.
pub(crate) fn from_headers(
    exchange: &Exchange<'_>,
    owner_id: &str,
) -> Result<Option<Acl>, S3Error> {
    let head = &exchange.head;
    let canned = head.header_str("x-amz-acl");
    let has_grants = GRANT_HEADERS.iter().any(|(name, _)| head.has_header(name));
    match (canned, has_grants) {
        (None, false) => Ok(None),
        (Some(_), true) => Err(S3Error::with_message(
            S3ErrorCode::InvalidRequest,
            "Specifying both Canned ACLs and Header Grants is not allowed",
        )),
        (Some(name), false) => from_canned(name.trim()).map(Some),
        (None, true) => {
            let mut grants = Vec::new();
            for (name, permission) in GRANT_HEADERS {
                // Bounded: the request head's size bounds the values; GRANTS_MAX the result.
                for (header, value) in head.headers.iter().filter(|(header, _)| header == name) {
                    let value = std::str::from_utf8(value).map_err(|_| invalid_grant(header))?;
                    for grantee in value.split(',').map(str::trim).filter(|g| !g.is_empty()) {
                        let grantee = parse_grantee_header(grantee, owner_id)?;
                        grants.push(Grant {
                            grantee,
                            permission,
                        });
                        if grants.len() > GRANTS_MAX {
                            return Err(S3Error::new(S3ErrorCode::MalformedACLError));
                        }
                    }
                }
            }
            Ok(Some(Acl { grants }))
        }
    }
}

/// A canned ACL by name (`x-amz-acl`, a form's `acl`).
pub(crate) fn from_canned(name: &str) -> Result<Acl, S3Error> {
    Acl::canned(name).ok_or_else(|| {
        S3Error::with_message(S3ErrorCode::InvalidArgument, "Invalid canned ACL")
            .extra("ArgumentName", "x-amz-acl")
            .extra("ArgumentValue", name.to_owned())
    })
}

fn invalid_grant(header: &str) -> S3Error {
    S3Error::with_message(S3ErrorCode::InvalidArgument, "Invalid grant header")
        .extra("ArgumentName", header.to_owned())
}

/// One grantee of a grant header: `id="..."`, `uri="..."` or `emailAddress="..."`.
fn parse_grantee_header(text: &str, owner_id: &str) -> Result<Grantee, S3Error> {
    let (kind, value) = text
        .split_once('=')
        .ok_or_else(|| invalid_grant("x-amz-grant-*"))?;
    let value = value.trim().trim_matches('"');
    grantee(kind.trim(), value, owner_id)
}

/// A grantee by kind (`id`, `uri`, `emailAddress`, as in headers; the XML types map onto
/// them) and value.
pub(crate) fn grantee(kind: &str, value: &str, owner_id: &str) -> Result<Grantee, S3Error> {
    match kind {
        "id" | "ID" if value == owner_id => Ok(Grantee::Owner),
        "id" | "ID" => Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "Invalid id: it names no account of this server",
        )
        .extra("ArgumentName", "CanonicalUser/ID")
        .extra("ArgumentValue", value.to_owned())),
        "uri" | "URI" => Grantee::from_uri(value).ok_or_else(|| {
            S3Error::with_message(S3ErrorCode::InvalidArgument, "Invalid group uri")
                .extra("ArgumentName", "Group/URI")
                .extra("ArgumentValue", value.to_owned())
        }),
        "emailAddress" | "EmailAddress" => {
            Err(S3Error::new(S3ErrorCode::UnresolvableGrantByEmailAddress))
        }
        _ => Err(invalid_grant("x-amz-grant-*")),
    }
}

/// What to store for an ACL asked of `bucket` (for the bucket itself or a new object in
/// it): under BucketOwnerEnforced only an owner-only ACL is accepted, and nothing is stored;
/// with ACLs enabled a public ACL passes only without BlockPublicAcls. A private ACL is
/// stored as `None`.
pub(crate) fn to_store(bucket: &BucketRecord, acl: Option<Acl>) -> Result<Option<Acl>, S3Error> {
    let Some(acl) = acl else {
        return Ok(None);
    };
    if !bucket.object_ownership.acls_enabled() {
        return if acl.owner_only() {
            Ok(None)
        } else {
            Err(S3Error::new(S3ErrorCode::AccessControlListNotSupported))
        };
    }
    let blocked = bucket
        .public_access_block
        .is_some_and(|block| block.block_public_acls);
    if blocked && acl.is_public() {
        return Err(S3Error::with_message(
            S3ErrorCode::AccessDenied,
            "The bucket's public access block (BlockPublicAcls) refuses a public ACL.",
        ));
    }
    Ok((acl != Acl::private()).then_some(acl))
}

/// What to store for a new object of the request's bucket, given the ACL it asks for
/// (`to_store` against the bucket record in force on this shard).
pub(crate) fn for_new_object(
    exchange: &Exchange<'_>,
    requested: Option<Acl>,
) -> Result<Option<Acl>, S3Error> {
    let record = crate::handlers::bucket::bucket_record(exchange)?;
    to_store(&record, requested)
}

/// `for_new_object` with the ACL of the request's headers (PutObject, CopyObject,
/// CreateMultipartUpload).
pub(crate) fn of_new_object(exchange: &Exchange<'_>) -> Result<Option<Acl>, S3Error> {
    let owner_id = crate::handlers::bucket::owner(exchange).id;
    let record = crate::handlers::bucket::bucket_record(exchange)?;
    let requested = from_headers(exchange, &owner_id).map_err(|error| {
        while_disabled(
            error,
            record.object_ownership,
            S3ErrorCode::AccessControlListNotSupported,
        )
    })?;
    to_store(&record, requested)
}

/// An ACL request this server cannot resolve (a grantee it does not know, a canned ACL with
/// grants), asked of a bucket with ACLs disabled: S3 answers that ACLs are disabled (`code`)
/// before it looks at what the ACL says.
pub(crate) fn while_disabled(
    error: S3Error,
    ownership: ObjectOwnership,
    code: S3ErrorCode,
) -> S3Error {
    let unresolved = matches!(
        error.code,
        S3ErrorCode::InvalidArgument
            | S3ErrorCode::UnresolvableGrantByEmailAddress
            | S3ErrorCode::InvalidRequest
    );
    if unresolved && !ownership.acls_enabled() {
        S3Error::new(code)
    } else {
        error
    }
}

/// The ACL that counts for a request on `bucket`: `None` when ACLs are disabled, or when
/// IgnorePublicAcls drops a public one.
pub(crate) fn in_force<'a>(bucket: &BucketRecord, acl: Option<&'a Acl>) -> Option<&'a Acl> {
    if !bucket.object_ownership.acls_enabled() {
        return None;
    }
    let ignore_public = bucket
        .public_access_block
        .is_some_and(|block| block.ignore_public_acls);
    acl.filter(|acl| !(ignore_public && acl.is_public()))
}

/// `x-amz-object-ownership` on CreateBucket.
pub(crate) fn requested_ownership(exchange: &Exchange<'_>) -> Result<ObjectOwnership, S3Error> {
    match exchange
        .head
        .header_str("x-amz-object-ownership")
        .map(str::trim)
    {
        None => Ok(ObjectOwnership::default()),
        Some(value) => ObjectOwnership::parse(value).ok_or_else(|| {
            S3Error::with_message(
                S3ErrorCode::InvalidArgument,
                "Invalid x-amz-object-ownership",
            )
            .extra("ArgumentName", "x-amz-object-ownership")
            .extra("ArgumentValue", value.to_owned())
        }),
    }
}

/// Whether the ACL of `object` (in `bucket`) grants `permission` to the requester.
pub(crate) fn object_grants(
    bucket: &BucketRecord,
    object: &shard::ObjectRecord,
    principal: Option<&runtime::identity::Principal>,
    permission: base::acl::Permission,
) -> bool {
    let requester = crate::auth::acls::requester(principal);
    in_force(bucket, object.acl.as_ref()).is_some_and(|acl| acl.allows(requester, permission))
}

/// For a request only the object's ACL can allow (`Exchange::object_acl_gate`), once the
/// handler has the object: its ACL must grant the permission.
pub(crate) fn check_object_gate(
    exchange: &Exchange<'_>,
    object: &shard::ObjectRecord,
) -> Result<(), S3Error> {
    let Some(permission) = exchange.object_acl_gate else {
        return Ok(());
    };
    let bucket = crate::handlers::bucket::bucket_record(exchange)?;
    if object_grants(&bucket, object, exchange.principal.as_ref(), permission) {
        Ok(())
    } else {
        Err(S3Error::new(S3ErrorCode::AccessDenied))
    }
}

/// An object lookup's error under the gate: a requester whom only an ACL could admit does
/// not learn whether the object (or version) exists.
pub(crate) fn gate_lookup_error(exchange: &Exchange<'_>, error: S3Error) -> S3Error {
    let hides = matches!(
        error.code,
        S3ErrorCode::NoSuchKey | S3ErrorCode::NoSuchVersion | S3ErrorCode::MethodNotAllowed
    );
    if exchange.object_acl_gate.is_some() && hides {
        S3Error::new(S3ErrorCode::AccessDenied)
    } else {
        error
    }
}
