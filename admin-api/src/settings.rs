//! The catalogue of dynamic settings: MaxIOFS's categories, keys and defaults where they apply
//! here (MAXIOFS-REFERENCE.md §4.12), each with a type and bounds. Values are stored as strings
//! in admin.db; every change is applied by the admin at once (it reads the live map on every
//! use) and pushed whole to the data plane as a `SettingsSnapshot`.

use std::collections::BTreeMap;

use serde_json::Value;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Bool,
    /// An integer within inclusive bounds.
    Int {
        min: i64,
        max: i64,
    },
}

#[derive(Clone, Copy, Debug)]
pub struct Definition {
    pub key: &'static str,
    pub kind: Kind,
    pub default: &'static str,
    pub description: &'static str,
}

impl Definition {
    pub fn category(&self) -> &'static str {
        self.key
            .split_once('.')
            .map_or(self.key, |(category, _)| category)
    }

    pub fn type_name(&self) -> &'static str {
        match self.kind {
            Kind::Bool => "bool",
            Kind::Int { .. } => "int",
        }
    }
}

pub const SESSION_TIMEOUT: &str = "security.session_timeout";
pub const SESSION_MAX_LIFETIME: &str = "security.session_max_lifetime";
pub const ROOT_CONSOLE_LOGIN: &str = "security.root_console_login";
pub const RATELIMIT_ACCOUNT_CHANGES_PER_MINUTE: &str =
    "security.ratelimit_account_changes_per_minute";
pub const MAX_FAILED_ATTEMPTS: &str = "security.max_failed_attempts";
pub const LOCKOUT_DURATION: &str = "security.lockout_duration";
pub const RATELIMIT_ENABLED: &str = "security.ratelimit_enabled";
pub const RATELIMIT_LOGIN_PER_MINUTE: &str = "security.ratelimit_login_per_minute";
pub const PASSWORD_MIN_LENGTH: &str = "security.password_min_length";
pub const PASSWORD_REQUIRE_UPPERCASE: &str = "security.password_require_uppercase";
pub const PASSWORD_REQUIRE_NUMBERS: &str = "security.password_require_numbers";
pub const AUDIT_ENABLED: &str = "audit.enabled";
pub const AUDIT_RETENTION_DAYS: &str = "audit.retention_days";
pub const AUDIT_LOG_S3: &str = "audit.log_s3_operations";
pub const AUDIT_LOG_CONSOLE: &str = "audit.log_console_operations";

const DAY: i64 = 86_400;

pub const CATALOGUE: &[Definition] = &[
    Definition {
        key: SESSION_TIMEOUT,
        kind: Kind::Int {
            min: 60,
            max: 30 * DAY,
        },
        default: "86400",
        description: "Seconds a console session lives after login or its last refresh",
    },
    Definition {
        key: SESSION_MAX_LIFETIME,
        kind: Kind::Int {
            min: 60,
            max: 30 * DAY,
        },
        default: "43200",
        description: "Seconds a console session lives at most after its login, refreshed or not",
    },
    Definition {
        key: ROOT_CONSOLE_LOGIN,
        kind: Kind::Bool,
        default: "true",
        description: "The root identity may log in to the console (its S3 use is unaffected)",
    },
    Definition {
        key: RATELIMIT_ACCOUNT_CHANGES_PER_MINUTE,
        kind: Kind::Int {
            min: 1,
            max: 100_000,
        },
        default: "5",
        description: "Password and 2FA changes one account may undergo per minute",
    },
    Definition {
        key: MAX_FAILED_ATTEMPTS,
        kind: Kind::Int { min: 1, max: 1000 },
        default: "5",
        description: "Failed logins in a row after which an account is locked",
    },
    Definition {
        key: LOCKOUT_DURATION,
        kind: Kind::Int {
            min: 1,
            max: 30 * DAY,
        },
        default: "900",
        description: "Seconds an account stays locked after too many failed logins",
    },
    Definition {
        key: RATELIMIT_ENABLED,
        kind: Kind::Bool,
        default: "true",
        description: "Limit login attempts per client IP",
    },
    Definition {
        key: RATELIMIT_LOGIN_PER_MINUTE,
        kind: Kind::Int {
            min: 1,
            max: 100_000,
        },
        default: "5",
        description: "Login attempts one client IP may make per minute",
    },
    Definition {
        key: PASSWORD_MIN_LENGTH,
        kind: Kind::Int { min: 8, max: 256 },
        default: "8",
        description: "Shortest password accepted",
    },
    Definition {
        key: PASSWORD_REQUIRE_UPPERCASE,
        kind: Kind::Bool,
        default: "true",
        description: "Passwords need an upper-case letter",
    },
    Definition {
        key: PASSWORD_REQUIRE_NUMBERS,
        kind: Kind::Bool,
        default: "true",
        description: "Passwords need a digit",
    },
    Definition {
        key: control::settings::keys::SSE_C_ALLOW_HTTP,
        kind: Kind::Bool,
        default: "false",
        description: "Accept SSE-C over plain HTTP (AWS requires TLS)",
    },
    Definition {
        key: control::settings::keys::ENCRYPT_ALL_OBJECTS,
        kind: Kind::Bool,
        default: "false",
        description: "Encrypt (SSE-S3) every object written without an encryption header",
    },
    Definition {
        key: AUDIT_ENABLED,
        kind: Kind::Bool,
        default: "true",
        description: "Record audit entries at all",
    },
    Definition {
        key: AUDIT_RETENTION_DAYS,
        kind: Kind::Int { min: 1, max: 3650 },
        default: "90",
        description: "Days audit entries are kept",
    },
    Definition {
        key: AUDIT_LOG_S3,
        kind: Kind::Bool,
        default: "true",
        description: "Record S3 writes (from the data plane's event log)",
    },
    Definition {
        key: AUDIT_LOG_CONSOLE,
        kind: Kind::Bool,
        default: "true",
        description: "Record console API actions",
    },
    Definition {
        key: control::settings::keys::AUDIT_LOG_DENIED,
        kind: Kind::Bool,
        default: "true",
        description: "Record denied S3 requests",
    },
    // Multipart uploads: both are read by the data plane (control::settings::defaults holds
    // the same defaults for before the first push; a test checks that they agree).
    Definition {
        key: control::settings::keys::MULTIPART_MAX_OPEN_UPLOADS_PER_TENANT,
        kind: Kind::Int {
            min: 0,
            max: 10_000_000,
        },
        default: "10000",
        description: "Multipart uploads in progress one tenant may have (0: no cap)",
    },
    Definition {
        key: control::settings::keys::MULTIPART_ABORT_INCOMPLETE_AFTER_SECS,
        kind: Kind::Int {
            min: 0,
            max: 3650 * DAY,
        },
        default: "604800",
        description: "Seconds after which an unfinished multipart upload is aborted (0: never)",
    },
];

pub fn definition(key: &str) -> Option<&'static Definition> {
    CATALOGUE.iter().find(|definition| definition.key == key)
}

pub fn categories() -> Vec<&'static str> {
    let mut categories: Vec<&str> = CATALOGUE.iter().map(Definition::category).collect();
    categories.dedup();
    categories.sort_unstable();
    categories.dedup();
    categories
}

/// The stored text of a JSON value for `key`, or why it is refused. Strings are accepted for
/// every type ("true", "300") since forms and scripts send them.
pub fn validate(key: &str, value: &Value) -> Result<String, String> {
    let definition = definition(key).ok_or_else(|| format!("unknown setting {key:?}"))?;
    match definition.kind {
        Kind::Bool => match value {
            Value::Bool(flag) => Ok(flag.to_string()),
            Value::String(text) if text == "true" || text == "false" => Ok(text.clone()),
            _ => Err(format!("{key} takes true or false")),
        },
        Kind::Int { min, max } => {
            let number = match value {
                Value::Number(number) => number.as_i64(),
                Value::String(text) => text.trim().parse().ok(),
                _ => None,
            }
            .ok_or_else(|| format!("{key} takes an integer"))?;
            if number < min || number > max {
                return Err(format!("{key} must be within {min}..={max}"));
            }
            Ok(number.to_string())
        }
    }
}

/// The JSON form of a stored value (numbers and booleans as such).
pub fn to_json(key: &str, stored: &str) -> Value {
    match definition(key).map(|definition| definition.kind) {
        Some(Kind::Bool) => Value::Bool(stored == "true"),
        Some(Kind::Int { .. }) => stored
            .parse::<i64>()
            .map_or_else(|_| Value::String(stored.to_owned()), Value::from),
        None => Value::String(stored.to_owned()),
    }
}

/// Every setting's value in force: stored values over defaults.
#[derive(Clone, Debug, Default)]
pub struct Live {
    pub values: BTreeMap<String, String>,
}

impl Live {
    pub fn from_stored(stored: BTreeMap<String, String>) -> Self {
        let mut values: BTreeMap<String, String> = CATALOGUE
            .iter()
            .map(|definition| (definition.key.to_owned(), definition.default.to_owned()))
            .collect();
        for (key, value) in stored {
            if values.contains_key(&key) {
                values.insert(key, value);
            }
        }
        Self { values }
    }

    pub fn flag(&self, key: &str) -> bool {
        self.values.get(key).is_some_and(|value| value == "true")
    }

    pub fn number(&self, key: &str) -> u64 {
        self.values
            .get(key)
            .and_then(|value| value.parse().ok())
            .or_else(|| definition(key).and_then(|definition| definition.default.parse().ok()))
            .unwrap_or(0)
    }
}

/// Checks a new password against the password policy in force.
pub fn check_password(live: &Live, password: &str) -> Result<(), String> {
    let min = usize::try_from(live.number(PASSWORD_MIN_LENGTH)).unwrap_or(usize::MAX);
    if password.chars().count() < min {
        return Err(format!("password must have at least {min} characters"));
    }
    if password.len() > 1024 {
        return Err("password is longer than 1024 bytes".into());
    }
    if live.flag(PASSWORD_REQUIRE_UPPERCASE) && !password.chars().any(char::is_uppercase) {
        return Err("password needs an upper-case letter".into());
    }
    if live.flag(PASSWORD_REQUIRE_NUMBERS) && !password.chars().any(|c| c.is_ascii_digit()) {
        return Err("password needs a digit".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_typed_and_bounded() {
        assert_eq!(
            validate(MAX_FAILED_ATTEMPTS, &Value::from(3)),
            Ok("3".into())
        );
        assert_eq!(
            validate(MAX_FAILED_ATTEMPTS, &Value::from("7")),
            Ok("7".into())
        );
        assert!(validate(MAX_FAILED_ATTEMPTS, &Value::from(0)).is_err());
        assert!(validate(MAX_FAILED_ATTEMPTS, &Value::from("x")).is_err());
        assert_eq!(
            validate(AUDIT_ENABLED, &Value::Bool(false)),
            Ok("false".into())
        );
        assert!(validate(AUDIT_ENABLED, &Value::from(1)).is_err());
        assert!(validate("nope.nothing", &Value::Bool(true)).is_err());
    }

    #[test]
    fn defaults_are_valid_and_keys_unique() {
        let mut keys = std::collections::BTreeSet::new();
        for definition in CATALOGUE {
            assert!(keys.insert(definition.key), "{}", definition.key);
            let value = to_json(definition.key, definition.default);
            assert_eq!(
                validate(definition.key, &value).as_deref(),
                Ok(definition.default)
            );
        }
        assert_eq!(categories(), vec!["audit", "multipart", "security"]);
    }

    #[test]
    fn every_key_the_data_plane_reads_is_in_the_catalogue_off_by_default() {
        use control::settings::keys;
        for key in [keys::SSE_C_ALLOW_HTTP, keys::ENCRYPT_ALL_OBJECTS] {
            let definition = definition(key).unwrap_or_else(|| panic!("{key} missing"));
            assert_eq!((definition.kind, definition.default), (Kind::Bool, "false"));
            assert_eq!(validate(key, &Value::from(true)), Ok("true".into()));
            assert!(validate(key, &Value::from("sometimes")).is_err());
        }
        assert!(definition(keys::AUDIT_LOG_DENIED).is_some());
    }

    #[test]
    fn password_policy_applies() {
        let live = Live::from_stored(BTreeMap::new());
        assert!(check_password(&live, "Short1").is_err());
        assert!(check_password(&live, "nouppercase1").is_err());
        assert!(check_password(&live, "NoDigitsHere").is_err());
        assert!(check_password(&live, "Good Password 1").is_ok());
    }
}

#[cfg(test)]
mod data_plane_defaults {
    use super::*;

    #[test]
    fn catalogue_defaults_match_the_data_planes() {
        use control::settings::{defaults, keys};
        for (key, data_plane) in [
            (
                keys::MULTIPART_MAX_OPEN_UPLOADS_PER_TENANT,
                defaults::MULTIPART_MAX_OPEN_UPLOADS_PER_TENANT,
            ),
            (
                keys::MULTIPART_ABORT_INCOMPLETE_AFTER_SECS,
                defaults::MULTIPART_ABORT_INCOMPLETE_AFTER_SECS,
            ),
        ] {
            let definition = definition(key).expect("in the catalogue");
            assert_eq!(definition.default, data_plane.to_string(), "{key}");
        }
    }
}
