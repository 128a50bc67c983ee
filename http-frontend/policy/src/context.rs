//! What a request brings to evaluation: the action, the resource ARN, who asks, and the
//! condition keys. Built by the server once per request (the `Principal` once per identity
//! snapshot); evaluation only borrows it.

/// Who makes the request, in AWS's vocabulary (the crate documentation gives the mapping of
/// MaxIOFS tenants and users onto it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// An unsigned request: only `"*"` and `{"AWS": "*"}` principals match it.
    pub anonymous: bool,
    /// The account: the tenant's id.
    pub account_id: String,
    /// `arn:aws:iam::<account>:user/<username>`, or `arn:aws:iam::<account>:root`.
    pub arn: String,
    /// `aws:username`; empty for the account root and anonymous requests.
    pub username: String,
    /// `aws:userid`: the user's stable id; `anonymous` for anonymous requests.
    pub userid: String,
    /// Matched by `{"CanonicalUser": ...}` principals, if the server assigns such ids.
    pub canonical_user_id: Option<String>,
}

impl Principal {
    pub fn anonymous() -> Principal {
        Principal {
            anonymous: true,
            account_id: String::new(),
            arn: String::new(),
            username: String::new(),
            userid: "anonymous".to_owned(),
            canonical_user_id: None,
        }
    }

    /// A user of an account: ARN `arn:aws:iam::<account_id>:user/<username>`.
    pub fn user(account_id: &str, username: &str, userid: &str) -> Principal {
        Principal {
            anonymous: false,
            account_id: account_id.to_owned(),
            arn: format!("arn:aws:iam::{account_id}:user/{username}"),
            username: username.to_owned(),
            userid: userid.to_owned(),
            canonical_user_id: None,
        }
    }

    /// The account itself (its root credentials): ARN `arn:aws:iam::<account_id>:root`.
    pub fn root(account_id: &str) -> Principal {
        Principal {
            anonymous: false,
            account_id: account_id.to_owned(),
            arn: format!("arn:aws:iam::{account_id}:root"),
            username: String::new(),
            userid: account_id.to_owned(),
            canonical_user_id: None,
        }
    }

    /// The value of a condition key AWS derives from the principal (`key_lowercase` in ASCII
    /// lower case): `aws:username` (users only), `aws:userid`, `aws:PrincipalType`, and for
    /// authenticated requests `aws:PrincipalAccount` and `aws:PrincipalArn`. `None` for any
    /// other key.
    pub fn condition_value(&self, key_lowercase: &str) -> Option<&str> {
        match key_lowercase {
            "aws:username" if !self.username.is_empty() => Some(&self.username),
            "aws:userid" => Some(&self.userid),
            "aws:principaltype" => Some(self.principal_type()),
            "aws:principalaccount" if !self.anonymous => Some(&self.account_id),
            "aws:principalarn" if !self.anonymous => Some(&self.arn),
            _ => None,
        }
    }

    /// `aws:PrincipalType` as AWS spells it.
    pub fn principal_type(&self) -> &'static str {
        if self.anonymous {
            "Anonymous"
        } else if self.username.is_empty() {
            "Account"
        } else {
            "User"
        }
    }
}

/// The condition keys `Principal::condition_value` knows, as AWS spells them.
const PRINCIPAL_KEYS: [&str; 5] = [
    "aws:username",
    "aws:userid",
    "aws:PrincipalType",
    "aws:PrincipalAccount",
    "aws:PrincipalArn",
];

/// The values of one condition key of a request, borrowed from wherever the request keeps
/// them: most keys hold one value (a header, the principal's name), a few several
/// (`ConditionKeys`, e.g. `s3:RequestObjectTagKeys`).
#[derive(Debug, Clone, Copy)]
pub enum Values<'a> {
    One(&'a str),
    Many(&'a [String]),
}

impl<'a> Values<'a> {
    pub fn is_empty(self) -> bool {
        match self {
            Values::One(_) => false,
            Values::Many(values) => values.is_empty(),
        }
    }

    pub fn iter(self) -> impl Iterator<Item = &'a str> {
        let (one, many) = match self {
            Values::One(value) => (Some(value), &[][..]),
            Values::Many(values) => (None, values),
        };
        one.into_iter().chain(many.iter().map(String::as_str))
    }

    /// The value of a single-valued key, for policy variables.
    pub(crate) fn single(self) -> Option<&'a str> {
        match self {
            Values::One(value) => Some(value),
            Values::Many([value]) => Some(value),
            Values::Many(_) => None,
        }
    }
}

/// Where evaluation reads a request's condition keys: a `ConditionKeys` built beforehand, or
/// the server's own source that finds a key in the request only when a statement reads it
/// (most statements are ruled out by their action before their conditions are looked at).
pub trait ConditionSource: std::fmt::Debug {
    /// The values of `key_lowercase` (the policy side's key, ASCII lower case); `None` when
    /// the request has no such key.
    fn values_lowercase(&self, key_lowercase: &str) -> Option<Values<'_>>;
}

impl ConditionSource for ConditionKeys {
    fn values_lowercase(&self, key_lowercase: &str) -> Option<Values<'_>> {
        self.entries
            .iter()
            .find(|(key, _)| **key == *key_lowercase)
            .map(|(_, values)| Values::Many(values))
    }
}

/// Condition keys and their values. Key names are case-insensitive (as in AWS): they are
/// stored in ASCII lower case, and the policy side is lowered when compiled, so a lookup is
/// a plain comparison. A handful of keys per request makes a linear scan the fastest map.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConditionKeys {
    entries: Vec<(Box<str>, Vec<String>)>,
}

impl ConditionKeys {
    pub fn new() -> ConditionKeys {
        ConditionKeys::default()
    }

    /// The keys AWS derives from the principal: `aws:username` (users only), `aws:userid`,
    /// `aws:PrincipalType`, and for authenticated requests `aws:PrincipalAccount` and
    /// `aws:PrincipalArn`.
    pub fn for_principal(principal: &Principal) -> ConditionKeys {
        let mut keys = ConditionKeys::new();
        for key in PRINCIPAL_KEYS {
            if let Some(value) = principal.condition_value(&key.to_ascii_lowercase()) {
                keys.insert(key, value);
            }
        }
        keys
    }

    /// Adds one value to `key` (a key may hold several, e.g. `s3:RequestObjectTagKeys`).
    pub fn insert(&mut self, key: &str, value: impl Into<String>) {
        let value = value.into();
        match self.position(key) {
            Some(idx) => self.entries[idx].1.push(value),
            None => self
                .entries
                .push((key.to_ascii_lowercase().into_boxed_str(), vec![value])),
        }
    }

    /// Replaces every value of `key`; an empty `values` keeps the key present with no value
    /// (for `ForAllValues`, which is then true, and `Null`, which sees the key).
    pub fn set(&mut self, key: &str, values: Vec<String>) {
        match self.position(key) {
            Some(idx) => self.entries[idx].1 = values,
            None => self
                .entries
                .push((key.to_ascii_lowercase().into_boxed_str(), values)),
        }
    }

    pub fn remove(&mut self, key: &str) {
        if let Some(idx) = self.position(key) {
            self.entries.swap_remove(idx);
        }
    }

    /// The values of `key`, any case.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.position(key).map(|idx| self.entries[idx].1.as_slice())
    }

    fn position(&self, key: &str) -> Option<usize> {
        self.entries
            .iter()
            .position(|(name, _)| name.eq_ignore_ascii_case(key))
    }
}

/// One authorization question: may `principal` perform `action` on `resource`?
///
/// An S3 operation that touches two resources (CopyObject: the source and the destination)
/// asks two questions, each with its own action and resource.
#[derive(Debug, Clone, Copy)]
pub struct RequestContext<'a> {
    /// The IAM action, e.g. `s3:GetObject` (`actions::s3_action` gives it per operation).
    pub action: &'a str,
    /// `arn:aws:s3:::<bucket>` or `arn:aws:s3:::<bucket>/<key>` (the key as stored, not
    /// URL-encoded), or `*` for ListBuckets.
    pub resource: &'a str,
    pub principal: &'a Principal,
    pub keys: &'a dyn ConditionSource,
}

/// `arn:aws:s3:::<bucket>`.
pub fn bucket_arn(bucket: &str) -> String {
    let mut arn = String::with_capacity(S3_ARN_PREFIX.len() + bucket.len());
    arn.push_str(S3_ARN_PREFIX);
    arn.push_str(bucket);
    arn
}

/// `arn:aws:s3:::<bucket>/<key>`.
pub fn object_arn(bucket: &str, key: &str) -> String {
    // Built in one allocation of the exact size: it is made for every evaluated request.
    let mut arn = String::with_capacity(S3_ARN_PREFIX.len() + bucket.len() + 1 + key.len());
    arn.push_str(S3_ARN_PREFIX);
    arn.push_str(bucket);
    arn.push('/');
    arn.push_str(key);
    arn
}

const S3_ARN_PREFIX: &str = "arn:aws:s3:::";
