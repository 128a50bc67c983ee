//! Access documents: `PublicAccessBlockConfiguration` (Put/GetPublicAccessBlock),
//! `OwnershipControls` (Put/GetBucketOwnershipControls) and `AccessControlPolicy`
//! (Put/GetBucketAcl, Put/GetObjectAcl).
//!
//! ```xml
//! <PublicAccessBlockConfiguration>
//!   <BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>true</IgnorePublicAcls>
//!   <BlockPublicPolicy>true</BlockPublicPolicy>
//!   <RestrictPublicBuckets>true</RestrictPublicBuckets>
//! </PublicAccessBlockConfiguration>
//! <OwnershipControls><Rule><ObjectOwnership>BucketOwnerEnforced</ObjectOwnership></Rule>
//! </OwnershipControls>
//! <AccessControlPolicy><Owner><ID/></Owner><AccessControlList><Grant>
//!   <Grantee xsi:type="CanonicalUser"><ID/></Grantee><Permission>FULL_CONTROL</Permission>
//! </Grant></AccessControlList></AccessControlPolicy>
//! ```

pub use base::public_access::PublicAccessBlock;

use base::acl::{Acl, Permission};

use super::reader::{Step, Walker, require_blank};
use super::{S3_XML_NAMESPACE, XML_DECLARATION, escape_into, malformed_xml};
use crate::error::{S3Error, S3ErrorCode};

const SWITCHES: [&str; 4] = [
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
];

/// Parses a PutPublicAccessBlock body: each switch at most once, `true` or `false`; an
/// absent element is `false`, as on S3.
pub fn parse_public_access_block(body: &[u8]) -> Result<PublicAccessBlock, S3Error> {
    let mut walker = Walker::new(body)?;
    walker.expect_root("PublicAccessBlockConfiguration")?;
    let mut values: [Option<bool>; 4] = [None; 4];
    loop {
        match walker.next()? {
            Step::Open { name, depth: 2 } if SWITCHES.contains(&name.as_str()) => {}
            Step::Open { .. } => return Err(malformed_xml()),
            Step::Close {
                name,
                depth: 2,
                text,
            } => {
                let index = SWITCHES.iter().position(|switch| *switch == name);
                let value = match text.trim() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(malformed_xml()),
                };
                let slot = index
                    .map(|index| &mut values[index])
                    .ok_or_else(malformed_xml)?;
                if slot.replace(value).is_some() {
                    return Err(malformed_xml());
                }
            }
            Step::Close { text, .. } => require_blank(&text)?,
            Step::End => break,
        }
    }
    let [acls, ignore, policy, restrict] = values.map(|value| value.unwrap_or(false));
    Ok(PublicAccessBlock {
        block_public_acls: acls,
        ignore_public_acls: ignore,
        block_public_policy: policy,
        restrict_public_buckets: restrict,
    })
}

pub fn public_access_block_xml(switches: PublicAccessBlock) -> String {
    let values = [
        switches.block_public_acls,
        switches.ignore_public_acls,
        switches.block_public_policy,
        switches.restrict_public_buckets,
    ];
    let mut out = String::with_capacity(320);
    out.push_str(XML_DECLARATION);
    out.push_str("<PublicAccessBlockConfiguration xmlns=\"");
    out.push_str(S3_XML_NAMESPACE);
    out.push_str("\">");
    for (name, value) in SWITCHES.iter().zip(values) {
        super::push_display_element(&mut out, name, value);
    }
    out.push_str("</PublicAccessBlockConfiguration>");
    out
}

/// Object Ownership's three settings.
pub const OBJECT_OWNERSHIP_VALUES: [&str; 3] = [
    "BucketOwnerEnforced",
    "BucketOwnerPreferred",
    "ObjectWriter",
];

/// Parses a PutBucketOwnershipControls body: exactly one rule with one `ObjectOwnership` of
/// S3's three values, returned as written.
pub fn parse_ownership_controls(body: &[u8]) -> Result<String, S3Error> {
    let mut walker = Walker::new(body)?;
    walker.expect_root("OwnershipControls")?;
    let mut ownership: Option<String> = None;
    let mut rules = 0;
    loop {
        match walker.next()? {
            Step::Open { name, depth: 2 } if name == "Rule" => rules += 1,
            Step::Open { name, depth: 3 } if name == "ObjectOwnership" => {}
            Step::Open { .. } => return Err(malformed_xml()),
            Step::Close { depth: 3, text, .. } => {
                let value = text.trim();
                if ownership.is_some() || !OBJECT_OWNERSHIP_VALUES.contains(&value) {
                    return Err(malformed_xml());
                }
                ownership = Some(value.to_owned());
            }
            Step::Close { text, .. } => require_blank(&text)?,
            Step::End => break,
        }
    }
    match ownership {
        Some(value) if rules == 1 => Ok(value),
        _ => Err(malformed_xml()),
    }
}

pub fn ownership_controls_xml(ownership: &str) -> String {
    format!(
        "{XML_DECLARATION}<OwnershipControls xmlns=\"{S3_XML_NAMESPACE}\"><Rule>\
         <ObjectOwnership>{ownership}</ObjectOwnership></Rule></OwnershipControls>"
    )
}

/// An `AccessControlPolicy` as a client sent it (PutBucketAcl / PutObjectAcl), grantees not
/// yet resolved (the front end knows which ids exist).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct AccessControlPolicy {
    pub owner_id: Option<String>,
    pub grants: Vec<(GranteeRef, Permission)>,
}

/// A grantee as written: `kind` is `ID`, `URI` or `EmailAddress` (the element that names it).
#[derive(Debug, PartialEq, Eq)]
pub struct GranteeRef {
    pub kind: String,
    pub value: String,
}

/// Parses an `AccessControlPolicy` body: every grant needs one grantee element and one
/// known permission (MalformedACLError otherwise, as S3 answers); at most `ACL_GRANTS_MAX`.
pub fn parse_access_control_policy(body: &[u8]) -> Result<AccessControlPolicy, S3Error> {
    let malformed_acl = || S3Error::new(S3ErrorCode::MalformedACLError);
    let mut walker = Walker::new(body)?;
    walker.expect_root("AccessControlPolicy")?;
    let mut path: Vec<String> = Vec::new();
    let mut policy = AccessControlPolicy::default();
    let mut grantee: Option<GranteeRef> = None;
    let mut permission: Option<Permission> = None;
    loop {
        match walker.next()? {
            Step::Open { name, .. } => {
                path.push(name);
                if path.len() > 4 {
                    return Err(malformed_xml());
                }
            }
            Step::Close { name, text, .. } => {
                path.pop();
                let value = text.trim();
                match (path.last().map(String::as_str), name.as_str()) {
                    (Some("Owner"), "ID") => policy.owner_id = Some(value.to_owned()),
                    (Some("Grantee"), "ID" | "URI" | "EmailAddress") => {
                        let named = GranteeRef {
                            kind: name.clone(),
                            value: value.to_owned(),
                        };
                        if grantee.replace(named).is_some() {
                            return Err(malformed_acl());
                        }
                    }
                    (Some("Grant"), "Permission") => {
                        let parsed = Permission::parse(value).ok_or_else(malformed_acl)?;
                        if permission.replace(parsed).is_some() {
                            return Err(malformed_acl());
                        }
                    }
                    (Some("AccessControlList"), "Grant") => {
                        let (Some(grantee), Some(permission)) = (grantee.take(), permission.take())
                        else {
                            return Err(malformed_acl());
                        };
                        policy.grants.push((grantee, permission));
                        if policy.grants.len() > ACL_GRANTS_MAX {
                            return Err(malformed_acl());
                        }
                    }
                    _ => {}
                }
            }
            Step::End => break,
        }
    }
    Ok(policy)
}

/// An ACL as S3 answers it (GetBucketAcl / GetObjectAcl): the owner, then each grant.
pub fn access_control_policy_xml(owner_id: &str, display_name: &str, acl: &Acl) -> String {
    let mut owner = String::with_capacity(128);
    owner.push_str("<ID>");
    escape_into(&mut owner, owner_id);
    owner.push_str("</ID><DisplayName>");
    escape_into(&mut owner, display_name);
    owner.push_str("</DisplayName>");
    let mut out = format!(
        "{XML_DECLARATION}<AccessControlPolicy xmlns=\"{S3_XML_NAMESPACE}\"><Owner>{owner}</Owner>\
         <AccessControlList>"
    );
    for grant in &acl.grants {
        out.push_str("<Grant><Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" ");
        match grant.grantee.uri() {
            None => {
                out.push_str("xsi:type=\"CanonicalUser\">");
                out.push_str(&owner);
            }
            Some(uri) => {
                out.push_str("xsi:type=\"Group\"><URI>");
                out.push_str(uri);
                out.push_str("</URI>");
            }
        }
        out.push_str("</Grantee><Permission>");
        out.push_str(grant.permission.as_str());
        out.push_str("</Permission></Grant>");
    }
    out.push_str("</AccessControlList></AccessControlPolicy>");
    out
}

/// Grants an ACL may hold (S3: "You can grant permissions to up to 100 grantees").
pub const ACL_GRANTS_MAX: usize = base::acl::GRANTS_MAX;

#[cfg(test)]
mod tests;
