//! Access control lists (S3's legacy grants) and Object Ownership, as stored with buckets and
//! object versions.
//!
//! What a grant can name here: the bucket's owner (every bucket and object has the one owner
//! the server reports), or one of S3's three groups. Users of the owner's tenant get their
//! rights from policies (IAM and bucket); users of another tenant never reach the bucket
//! (the tenant boundary comes first). So the grants that change who may do what are the
//! public ones: `AllUsers` (anyone, anonymous included) and `AuthenticatedUsers` (any signed
//! request that reaches the bucket). Grants to the owner are kept so that reads echo them.
//! An ACL counts only while the bucket's Object Ownership leaves ACLs enabled.

/// What a grant allows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permission {
    Read,
    Write,
    ReadAcp,
    WriteAcp,
    FullControl,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        match self {
            Permission::Read => "READ",
            Permission::Write => "WRITE",
            Permission::ReadAcp => "READ_ACP",
            Permission::WriteAcp => "WRITE_ACP",
            Permission::FullControl => "FULL_CONTROL",
        }
    }

    pub fn parse(text: &str) -> Option<Permission> {
        Some(match text {
            "READ" => Permission::Read,
            "WRITE" => Permission::Write,
            "READ_ACP" => Permission::ReadAcp,
            "WRITE_ACP" => Permission::WriteAcp,
            "FULL_CONTROL" => Permission::FullControl,
            _ => return None,
        })
    }

    /// Whether a grant of `self` allows `wanted` (FULL_CONTROL allows all four).
    pub fn covers(self, wanted: Permission) -> bool {
        self == wanted || self == Permission::FullControl
    }
}

pub const ALL_USERS_URI: &str = "http://acs.amazonaws.com/groups/global/AllUsers";
pub const AUTHENTICATED_USERS_URI: &str =
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers";
pub const LOG_DELIVERY_URI: &str = "http://acs.amazonaws.com/groups/s3/LogDelivery";

/// Whom a grant names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Grantee {
    /// The bucket's owner (a `CanonicalUser` grantee with the owner's id).
    Owner,
    AllUsers,
    AuthenticatedUsers,
    /// S3's log delivery group: kept and echoed; no logs are delivered by this server.
    LogDelivery,
}

impl Grantee {
    /// The group URI (`None` for the owner).
    pub fn uri(self) -> Option<&'static str> {
        match self {
            Grantee::Owner => None,
            Grantee::AllUsers => Some(ALL_USERS_URI),
            Grantee::AuthenticatedUsers => Some(AUTHENTICATED_USERS_URI),
            Grantee::LogDelivery => Some(LOG_DELIVERY_URI),
        }
    }

    pub fn from_uri(uri: &str) -> Option<Grantee> {
        match uri {
            ALL_USERS_URI => Some(Grantee::AllUsers),
            AUTHENTICATED_USERS_URI => Some(Grantee::AuthenticatedUsers),
            LOG_DELIVERY_URI => Some(Grantee::LogDelivery),
            _ => None,
        }
    }

    fn code(self) -> &'static str {
        match self {
            Grantee::Owner => "owner",
            Grantee::AllUsers => "all",
            Grantee::AuthenticatedUsers => "auth",
            Grantee::LogDelivery => "log",
        }
    }

    fn from_code(code: &str) -> Option<Grantee> {
        Some(match code {
            "owner" => Grantee::Owner,
            "all" => Grantee::AllUsers,
            "auth" => Grantee::AuthenticatedUsers,
            "log" => Grantee::LogDelivery,
            _ => return None,
        })
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant {
    pub grantee: Grantee,
    pub permission: Permission,
}

/// Most grants in one ACL (S3: "up to 100 grantees").
pub const GRANTS_MAX: usize = 100;

/// Who asks, as far as ACLs can tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Requester {
    Anonymous,
    /// A signed request that passed the tenant boundary.
    Authenticated,
}

/// An ACL: its grants in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Acl {
    pub grants: Vec<Grant>,
}

impl Default for Acl {
    fn default() -> Self {
        Acl::private()
    }
}

impl Acl {
    /// The owner with full control, and no one else: every bucket's and object's ACL until
    /// one is set.
    pub fn private() -> Acl {
        Acl {
            grants: vec![Grant {
                grantee: Grantee::Owner,
                permission: Permission::FullControl,
            }],
        }
    }

    /// A canned ACL (`x-amz-acl`). `aws-exec-read` names an EC2 account that does not exist
    /// here: not accepted.
    pub fn canned(name: &str) -> Option<Acl> {
        let mut acl = Acl::private();
        let mut add = |grantee, permission| {
            acl.grants.push(Grant {
                grantee,
                permission,
            });
        };
        match name {
            "private" | "bucket-owner-read" | "bucket-owner-full-control" => {}
            "public-read" => add(Grantee::AllUsers, Permission::Read),
            "public-read-write" => {
                add(Grantee::AllUsers, Permission::Read);
                add(Grantee::AllUsers, Permission::Write);
            }
            "authenticated-read" => add(Grantee::AuthenticatedUsers, Permission::Read),
            "log-delivery-write" => {
                add(Grantee::LogDelivery, Permission::Write);
                add(Grantee::LogDelivery, Permission::ReadAcp);
            }
            _ => return None,
        }
        Some(acl)
    }

    /// Whether it grants anything to everyone or to every authenticated user (S3's
    /// definition of a public ACL, which BlockPublicAcls refuses and IgnorePublicAcls ignores).
    pub fn is_public(&self) -> bool {
        self.grants.iter().any(|grant| {
            matches!(
                grant.grantee,
                Grantee::AllUsers | Grantee::AuthenticatedUsers
            )
        })
    }

    /// Whether it grants the owner alone: the one ACL a bucket with ACLs disabled accepts.
    pub fn owner_only(&self) -> bool {
        self.grants
            .iter()
            .all(|grant| grant.grantee == Grantee::Owner)
    }

    /// Whether a grant gives `requester` the `wanted` permission.
    pub fn allows(&self, requester: Requester, wanted: Permission) -> bool {
        self.grants.iter().any(|grant| {
            let names_requester = match grant.grantee {
                Grantee::AllUsers => true,
                Grantee::AuthenticatedUsers => requester == Requester::Authenticated,
                Grantee::Owner | Grantee::LogDelivery => false,
            };
            names_requester && grant.permission.covers(wanted)
        })
    }

    /// Stored form: `grantee:PERMISSION` pairs joined by `;` (`owner:FULL_CONTROL;all:READ`).
    pub fn encode(&self) -> String {
        let pairs: Vec<String> = self
            .grants
            .iter()
            .map(|grant| format!("{}:{}", grant.grantee.code(), grant.permission.as_str()))
            .collect();
        pairs.join(";")
    }

    /// The stored form back; `None` when it is not one `encode` writes.
    pub fn decode(text: &str) -> Option<Acl> {
        let grants = text
            .split(';')
            .filter(|pair| !pair.is_empty())
            .take(GRANTS_MAX + 1)
            .map(|pair| {
                let (grantee, permission) = pair.split_once(':')?;
                Some(Grant {
                    grantee: Grantee::from_code(grantee)?,
                    permission: Permission::parse(permission)?,
                })
            })
            .collect::<Option<Vec<Grant>>>()?;
        (grants.len() <= GRANTS_MAX).then_some(Acl { grants })
    }
}

/// Object Ownership (Put/Get/DeleteBucketOwnershipControls).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ObjectOwnership {
    /// ACLs disabled: AWS's default for new buckets since April 2023, and this server's.
    #[default]
    BucketOwnerEnforced,
    BucketOwnerPreferred,
    ObjectWriter,
    /// DeleteBucketOwnershipControls: no controls (ACLs on, as with ObjectWriter;
    /// GetBucketOwnershipControls answers OwnershipControlsNotFoundError).
    Unset,
}

impl ObjectOwnership {
    pub fn as_str(self) -> Option<&'static str> {
        match self {
            ObjectOwnership::BucketOwnerEnforced => Some("BucketOwnerEnforced"),
            ObjectOwnership::BucketOwnerPreferred => Some("BucketOwnerPreferred"),
            ObjectOwnership::ObjectWriter => Some("ObjectWriter"),
            ObjectOwnership::Unset => None,
        }
    }

    pub fn parse(text: &str) -> Option<ObjectOwnership> {
        Some(match text {
            "BucketOwnerEnforced" => ObjectOwnership::BucketOwnerEnforced,
            "BucketOwnerPreferred" => ObjectOwnership::BucketOwnerPreferred,
            "ObjectWriter" => ObjectOwnership::ObjectWriter,
            _ => return None,
        })
    }

    /// Whether ACLs count (are stored, echoed and evaluated).
    pub fn acls_enabled(self) -> bool {
        self != ObjectOwnership::BucketOwnerEnforced
    }

    /// Stored in `buckets.object_ownership`: NULL (every bucket from before) is enforced.
    pub fn to_column(self) -> Option<i64> {
        match self {
            ObjectOwnership::BucketOwnerEnforced => None,
            ObjectOwnership::BucketOwnerPreferred => Some(2),
            ObjectOwnership::ObjectWriter => Some(3),
            ObjectOwnership::Unset => Some(0),
        }
    }

    pub fn from_column(column: Option<i64>) -> ObjectOwnership {
        match column {
            Some(2) => ObjectOwnership::BucketOwnerPreferred,
            Some(3) => ObjectOwnership::ObjectWriter,
            Some(0) => ObjectOwnership::Unset,
            _ => ObjectOwnership::BucketOwnerEnforced,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canned_acls_grant_what_s3_documents() {
        let public = Acl::canned("public-read").unwrap();
        assert!(public.is_public());
        assert!(public.allows(Requester::Anonymous, Permission::Read));
        assert!(!public.allows(Requester::Anonymous, Permission::Write));
        let authenticated = Acl::canned("authenticated-read").unwrap();
        assert!(!authenticated.allows(Requester::Anonymous, Permission::Read));
        assert!(authenticated.allows(Requester::Authenticated, Permission::Read));
        let everything = Acl::canned("public-read-write").unwrap();
        assert!(everything.allows(Requester::Anonymous, Permission::Write));
        for private in ["private", "bucket-owner-full-control", "bucket-owner-read"] {
            let acl = Acl::canned(private).unwrap();
            assert!(!acl.is_public());
            assert!(!acl.allows(Requester::Authenticated, Permission::Read));
        }
        assert!(!Acl::canned("log-delivery-write").unwrap().is_public());
        assert_eq!(Acl::canned("aws-exec-read"), None);
        assert_eq!(Acl::canned("Private"), None);
    }

    #[test]
    fn full_control_covers_every_permission() {
        let acl = Acl {
            grants: vec![Grant {
                grantee: Grantee::AllUsers,
                permission: Permission::FullControl,
            }],
        };
        for wanted in [
            Permission::Read,
            Permission::Write,
            Permission::ReadAcp,
            Permission::WriteAcp,
        ] {
            assert!(acl.allows(Requester::Anonymous, wanted));
        }
    }

    #[test]
    fn the_stored_form_round_trips_and_refuses_anything_else() {
        let acl = Acl::canned("log-delivery-write").unwrap();
        assert_eq!(acl.encode(), "owner:FULL_CONTROL;log:WRITE;log:READ_ACP");
        assert_eq!(Acl::decode(&acl.encode()), Some(acl));
        assert_eq!(
            Acl::decode("owner:FULL_CONTROL;all:READ"),
            Acl::canned("public-read")
        );
        assert_eq!(Acl::decode("nobody:READ"), None);
        assert_eq!(Acl::decode("all:SOMETHING"), None);
        assert_eq!(Acl::decode("all"), None);
        let too_many = vec!["all:READ"; GRANTS_MAX + 1].join(";");
        assert_eq!(Acl::decode(&too_many), None);
    }

    #[test]
    fn ownership_columns_round_trip() {
        for ownership in [
            ObjectOwnership::BucketOwnerEnforced,
            ObjectOwnership::BucketOwnerPreferred,
            ObjectOwnership::ObjectWriter,
            ObjectOwnership::Unset,
        ] {
            assert_eq!(
                ObjectOwnership::from_column(ownership.to_column()),
                ownership
            );
        }
        assert!(!ObjectOwnership::BucketOwnerEnforced.acls_enabled());
        assert!(ObjectOwnership::Unset.acls_enabled());
    }
}
