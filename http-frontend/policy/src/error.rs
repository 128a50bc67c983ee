//! Why a policy document was refused. `Display` gives AWS's MalformedPolicy message where
//! AWS's text is known, so the server can return it as is (S3 `MalformedPolicy`, IAM
//! `MalformedPolicyDocument`); variants carry the offending text for logs.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyError {
    /// Not JSON, or the document is not a JSON object.
    NotJson,
    /// Over `BUCKET_POLICY_SIZE_BYTES_MAX`.
    BucketPolicyTooLarge {
        size_bytes: usize,
    },
    /// Over `IDENTITY_POLICY_CHARACTERS_MAX` (white space not counted, as IAM counts).
    IdentityPolicyTooLarge {
        characters: usize,
    },
    MissingField {
        field: &'static str,
    },
    UnknownField {
        field: String,
    },
    /// A field of the wrong JSON type (`"Sid": 3`, `"Statement": "x"`).
    InvalidField {
        field: &'static str,
    },
    /// Both `Action` and `NotAction` (or `Resource` and `NotResource`, ...).
    ConflictingFields {
        field: &'static str,
        negated_field: &'static str,
    },
    InvalidVersion {
        version: String,
    },
    EmptyStatement,
    InvalidEffect {
        effect: String,
    },
    InvalidAction {
        action: String,
    },
    InvalidPrincipal {
        principal: String,
    },
    /// A principal in an identity (IAM) policy, which applies to whoever it is attached to.
    PrincipalInIdentityPolicy,
    InvalidResource {
        resource: String,
    },
    /// No resource of the statement is of the type an action needs (an object action on a
    /// bucket ARN, `s3:ListBucket` on `bucket/*`).
    ActionResourceMismatch {
        action: String,
    },
    InvalidConditionOperator {
        operator: String,
    },
    InvalidConditionKey {
        key: String,
    },
    InvalidConditionValue {
        operator: String,
        value: String,
    },
    DuplicateSid {
        sid: String,
    },
    TooManyStatements,
    TooManyValues {
        field: &'static str,
    },
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PolicyError::NotJson => {
                f.write_str("Policies must be valid JSON and the first byte must be '{'")
            }
            PolicyError::BucketPolicyTooLarge { .. } => {
                f.write_str("Policy exceeds the maximum allowed document size.")
            }
            PolicyError::IdentityPolicyTooLarge { .. } => {
                f.write_str("Cannot exceed quota for PolicySize: 6144")
            }
            PolicyError::MissingField { field } => write!(f, "Missing required field {field}"),
            PolicyError::UnknownField { field } => write!(f, "Unknown field {field}"),
            PolicyError::InvalidField { field } => write!(f, "Policy has an invalid {field}"),
            PolicyError::ConflictingFields {
                field,
                negated_field,
            } => write!(f, "Statement has both {field} and {negated_field}"),
            PolicyError::InvalidVersion { .. } => {
                f.write_str("The policy must contain a valid version string")
            }
            PolicyError::EmptyStatement => {
                f.write_str("Could not parse the policy: Statement is empty!")
            }
            PolicyError::InvalidEffect { effect } => write!(f, "Invalid effect: {effect}"),
            PolicyError::InvalidAction { .. } => f.write_str("Policy has invalid action"),
            PolicyError::InvalidPrincipal { .. } => f.write_str("Invalid principal in policy"),
            PolicyError::PrincipalInIdentityPolicy => {
                f.write_str("Policy document should not specify a principal.")
            }
            PolicyError::InvalidResource { .. } => f.write_str("Policy has invalid resource"),
            PolicyError::ActionResourceMismatch { .. } => {
                f.write_str("Action does not apply to any resource(s) in statement")
            }
            PolicyError::InvalidConditionOperator { .. } => {
                f.write_str("Invalid Condition operator")
            }
            PolicyError::InvalidConditionKey { .. } => {
                f.write_str("Policy has an invalid condition key")
            }
            PolicyError::InvalidConditionValue { operator, value } => {
                write!(f, "Invalid Condition value for {operator}: {value}")
            }
            PolicyError::DuplicateSid { .. } => {
                f.write_str("Statement IDs (SID) in a single policy must be unique.")
            }
            PolicyError::TooManyStatements => f.write_str("Policy has too many statements"),
            PolicyError::TooManyValues { field } => write!(f, "Too many values in {field}"),
        }
    }
}

impl std::error::Error for PolicyError {}
