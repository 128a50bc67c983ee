//! Bucket lifecycle rules as S3 defines them (`PutBucketLifecycleConfiguration`), their
//! validation, and the pure evaluation the lifecycle walker and the `x-amz-expiration` header
//! use. No clock is read here and nothing is stored: callers pass times in unix milliseconds.
//!
//! The XML forms of a filter (the legacy rule-level `<Prefix>`, `<Filter><Prefix>`,
//! `<Filter><Tag>`, `<Filter><ObjectSizeGreaterThan>`, `<Filter><And>...`) all become one
//! [`Filter`]: a prefix (empty matches every key), tags that must all be present with equal
//! values, and optional strict size bounds.
//!
//! Day rounding is AWS's (user guide, "Lifecycle rules: based on an object's age"): "Amazon S3
//! calculates the time by adding the number of days specified in the rule to the object
//! creation time and rounding the resulting time to the next day midnight UTC." An object
//! created at t with a rule of N days expires at the first midnight UTC at or after t + N
//! days. With a shortened test day (`day_ms`), "midnight" is the next multiple of `day_ms`
//! since the epoch. `Date` expirations are absolute and are never scaled.

/// Most rules in one configuration. AWS user guide, "Setting lifecycle configuration": "up to
/// 1,000 rules".
pub const LIFECYCLE_RULES_MAX: usize = 1000;

/// Longest rule ID, in characters (AWS: "ID length should not exceed allowed limit of 255").
pub const LIFECYCLE_RULE_ID_CHARS_MAX: usize = 255;

/// Most noncurrent versions a `NewerNoncurrentVersions` may keep (AWS API reference,
/// `NoncurrentVersionExpiration`: "You can specify up to 100 noncurrent versions to retain").
pub const NEWER_NONCURRENT_VERSIONS_MAX: u32 = 100;

/// One real day in milliseconds: the day of every rule unless a test shortens it.
pub const DAY_MS: i64 = 86_400_000;

/// A bucket's lifecycle configuration: its rules in the order they were given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LifecycleConfiguration {
    pub rules: Vec<Rule>,
    /// `x-amz-transition-default-minimum-object-size`: true for `varies_by_storage_class`,
    /// false for `all_storage_classes_128K` (AWS's default). It only shapes transitions,
    /// which this server does not make (one storage class); it is kept to be echoed.
    pub transition_minimum_varies_by_class: bool,
}

/// The values of `x-amz-transition-default-minimum-object-size`.
pub const TRANSITION_MINIMUM_ALL_CLASSES: &str = "all_storage_classes_128K";
pub const TRANSITION_MINIMUM_VARIES: &str = "varies_by_storage_class";

impl LifecycleConfiguration {
    /// The value of `x-amz-transition-default-minimum-object-size` for this configuration.
    pub fn transition_minimum(&self) -> &'static str {
        if self.transition_minimum_varies_by_class {
            TRANSITION_MINIMUM_VARIES
        } else {
            TRANSITION_MINIMUM_ALL_CLASSES
        }
    }
}

/// One lifecycle rule.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rule {
    /// Unique within the configuration, 1 to 255 characters. Empty until
    /// [`LifecycleConfiguration::assign_missing_ids`] gives it one.
    pub id: String,
    /// `<Status>Enabled</Status>`; a disabled rule is kept but never applied.
    pub enabled: bool,
    pub filter: Filter,
    pub expiration: Option<Expiration>,
    pub noncurrent_expiration: Option<NoncurrentExpiration>,
    /// `AbortIncompleteMultipartUpload/DaysAfterInitiation`.
    pub abort_incomplete_days: Option<u32>,
    /// Given with the rule-level `<Prefix>` of the deprecated PutBucketLifecycle rather than
    /// a `<Filter>`: answered in the same form, as S3 returns a rule as it was stored.
    pub legacy_prefix: bool,
}

/// Which objects a rule applies to (every condition must hold).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Key prefix; empty matches every key.
    pub prefix: String,
    /// Tags the object must carry, each with exactly this value.
    pub tags: Vec<(String, String)>,
    /// The object must be strictly larger (`ObjectSizeGreaterThan`).
    pub size_greater_than: Option<u64>,
    /// The object must be strictly smaller (`ObjectSizeLessThan`).
    pub size_less_than: Option<u64>,
}

/// The `Expiration` action: exactly one of its three forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiration {
    /// Current versions expire N days after creation (rounded, see the module docs).
    Days(u32),
    /// Current versions expire at this instant (unix ms, a midnight UTC).
    Date(i64),
    /// A delete marker that is the only version left of its key is removed.
    ExpiredObjectDeleteMarker,
}

/// The `NoncurrentVersionExpiration` action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoncurrentExpiration {
    /// Days after a version became noncurrent (rounded like `Expiration::Days`).
    pub noncurrent_days: u32,
    /// Keep this many newer noncurrent versions whatever their age (1 to 100).
    pub newer_noncurrent_versions: Option<u32>,
}

/// Why a configuration is refused. [`LifecycleError::message`] gives AWS's wording where it
/// has one; the S3 layer chooses the error code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LifecycleError {
    /// No rule at all.
    NoRules,
    /// More than `LIFECYCLE_RULES_MAX` rules.
    TooManyRules,
    /// An empty ID (IDs are assigned before validation).
    EmptyId,
    /// An ID over `LIFECYCLE_RULE_ID_CHARS_MAX` characters.
    IdTooLong,
    /// Two rules with this ID.
    DuplicateId(String),
    /// A rule with no action.
    NoAction,
    /// `Expiration/Days` of 0.
    ExpirationDaysNotPositive,
    /// `Expiration/Date` not at midnight UTC.
    DateNotMidnight,
    /// `NoncurrentDays` of 0.
    NoncurrentDaysNotPositive,
    /// `NewerNoncurrentVersions` outside 1..=100.
    NewerNoncurrentVersionsOutOfRange,
    /// `DaysAfterInitiation` of 0.
    AbortDaysNotPositive,
    /// `ObjectSizeGreaterThan` not below `ObjectSizeLessThan`.
    SizeRangeEmpty,
    /// `ObjectSizeLessThan` of 0: no object is smaller.
    SizeLessThanNotPositive,
    /// `ExpiredObjectDeleteMarker` in a rule that filters on tags (delete markers have none).
    DeleteMarkerWithTags,
    /// `AbortIncompleteMultipartUpload` in a rule that filters on tags (uploads have none).
    AbortWithTags,
}

impl LifecycleError {
    /// The message sent to the client.
    pub fn message(&self) -> String {
        match self {
            LifecycleError::NoRules => "A lifecycle configuration needs at least one rule.".into(),
            LifecycleError::TooManyRules => {
                format!("A lifecycle configuration holds at most {LIFECYCLE_RULES_MAX} rules.")
            }
            LifecycleError::EmptyId => "A rule ID must not be empty.".into(),
            LifecycleError::IdTooLong => format!(
                "ID length should not exceed allowed limit of {LIFECYCLE_RULE_ID_CHARS_MAX}"
            ),
            LifecycleError::DuplicateId(_) => {
                "Rule ID must be unique. Found same ID for more than one rule".into()
            }
            LifecycleError::NoAction => {
                "At least one action needs to be specified in a rule".into()
            }
            LifecycleError::ExpirationDaysNotPositive => {
                "'Days' for Expiration action must be a positive integer".into()
            }
            LifecycleError::DateNotMidnight => "'Date' must be at midnight GMT".into(),
            LifecycleError::NoncurrentDaysNotPositive => {
                "'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive \
                 integer"
                    .into()
            }
            LifecycleError::NewerNoncurrentVersionsOutOfRange => format!(
                "'NewerNoncurrentVersions' for NoncurrentVersionExpiration action must be a \
                 positive integer of at most {NEWER_NONCURRENT_VERSIONS_MAX}"
            ),
            LifecycleError::AbortDaysNotPositive => {
                "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a \
                 positive integer"
                    .into()
            }
            LifecycleError::SizeRangeEmpty => {
                "'ObjectSizeGreaterThan' must be less than 'ObjectSizeLessThan'".into()
            }
            LifecycleError::SizeLessThanNotPositive => {
                "'ObjectSizeLessThan' must be a positive integer".into()
            }
            LifecycleError::DeleteMarkerWithTags => {
                "ExpiredObjectDeleteMarker cannot be specified with Tags.".into()
            }
            LifecycleError::AbortWithTags => {
                "AbortIncompleteMultipartUpload cannot be specified with Tags.".into()
            }
        }
    }
}

impl std::fmt::Display for LifecycleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for LifecycleError {}

impl LifecycleConfiguration {
    /// Gives every rule without an ID one, as S3 does. AWS's generated IDs look random; ours
    /// are derived from the rule's content and position (64-bit FNV-1a, 16 hex digits), so the
    /// same document always gets the same IDs, and never one another rule already has (a
    /// clash is re-hashed with a counter). An ID is assigned once, when the configuration is
    /// accepted, and stored with it.
    pub fn assign_missing_ids(&mut self) {
        for index in 0..self.rules.len() {
            if !self.rules[index].id.is_empty() {
                continue;
            }
            let seed = format!("{index}\u{0}{:?}", self.rules[index]);
            let mut attempt: u32 = 0;
            let id = loop {
                let candidate = format!("{:016x}", fnv1a(&seed, attempt));
                let taken = self.rules.iter().any(|rule| rule.id == candidate);
                if !taken || attempt == u32::MAX {
                    break candidate;
                }
                attempt += 1;
            };
            self.rules[index].id = id;
        }
    }

    /// Checks AWS's rules: 1 to 1000 rules, unique IDs of 1 to 255 characters, at least one
    /// action per rule, positive day counts, a `Date` at midnight UTC, a non-empty size range,
    /// 1 to 100 `NewerNoncurrentVersions`, and no tag filter with `ExpiredObjectDeleteMarker`
    /// or `AbortIncompleteMultipartUpload`. The first violation is returned.
    pub fn validate(&self) -> Result<(), LifecycleError> {
        if self.rules.is_empty() {
            return Err(LifecycleError::NoRules);
        }
        if self.rules.len() > LIFECYCLE_RULES_MAX {
            return Err(LifecycleError::TooManyRules);
        }
        for (index, rule) in self.rules.iter().enumerate() {
            rule.validate()?;
            if self.rules[..index]
                .iter()
                .any(|earlier| earlier.id == rule.id)
            {
                return Err(LifecycleError::DuplicateId(rule.id.clone()));
            }
        }
        Ok(())
    }
}

/// 64-bit FNV-1a of `text` followed by `salt`'s little-endian bytes.
fn fnv1a(text: &str, salt: u32) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes().chain(salt.to_le_bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

impl Rule {
    /// Checks one rule (see [`LifecycleConfiguration::validate`]).
    pub fn validate(&self) -> Result<(), LifecycleError> {
        if self.id.is_empty() {
            return Err(LifecycleError::EmptyId);
        }
        if self.id.chars().count() > LIFECYCLE_RULE_ID_CHARS_MAX {
            return Err(LifecycleError::IdTooLong);
        }
        if self.expiration.is_none()
            && self.noncurrent_expiration.is_none()
            && self.abort_incomplete_days.is_none()
        {
            return Err(LifecycleError::NoAction);
        }
        self.filter.validate()?;
        let has_tags = !self.filter.tags.is_empty();
        match self.expiration {
            Some(Expiration::Days(0)) => return Err(LifecycleError::ExpirationDaysNotPositive),
            Some(Expiration::Date(date_ms)) if date_ms.rem_euclid(DAY_MS) != 0 => {
                return Err(LifecycleError::DateNotMidnight);
            }
            Some(Expiration::ExpiredObjectDeleteMarker) if has_tags => {
                return Err(LifecycleError::DeleteMarkerWithTags);
            }
            _ => {}
        }
        if let Some(noncurrent) = self.noncurrent_expiration {
            if noncurrent.noncurrent_days == 0 {
                return Err(LifecycleError::NoncurrentDaysNotPositive);
            }
            if noncurrent
                .newer_noncurrent_versions
                .is_some_and(|newer| newer == 0 || newer > NEWER_NONCURRENT_VERSIONS_MAX)
            {
                return Err(LifecycleError::NewerNoncurrentVersionsOutOfRange);
            }
        }
        match self.abort_incomplete_days {
            Some(0) => Err(LifecycleError::AbortDaysNotPositive),
            Some(_) if has_tags => Err(LifecycleError::AbortWithTags),
            _ => Ok(()),
        }
    }

    /// Whether the rule's filter selects an object with this key, size and tags. The rule's
    /// status is not looked at: callers skip disabled rules.
    pub fn matches(&self, key: &str, size: u64, tags: &[(String, String)]) -> bool {
        self.filter.matches(key, size, tags)
    }

    /// When a current version created at `created_ms` expires under this rule's `Expiration`
    /// (`Days`: the first "midnight" at or after creation plus N days; `Date`: that date), or
    /// `None` when the rule does not expire current versions.
    pub fn expiry_of_current(&self, created_ms: i64, day_ms: i64) -> Option<i64> {
        match self.expiration? {
            Expiration::Days(days) => Some(after_days(created_ms, days, day_ms)),
            Expiration::Date(date_ms) => Some(date_ms),
            Expiration::ExpiredObjectDeleteMarker => None,
        }
    }

    /// When a version that became noncurrent at `noncurrent_since_ms` (when a newer version or
    /// a delete marker was written over it) reaches `NoncurrentDays`, rounded like
    /// [`Rule::expiry_of_current`]. `NewerNoncurrentVersions` is not considered here: see
    /// [`Rule::noncurrent_version_expires`].
    pub fn expiry_of_noncurrent(&self, noncurrent_since_ms: i64, day_ms: i64) -> Option<i64> {
        let noncurrent = self.noncurrent_expiration?;
        Some(after_days(
            noncurrent_since_ms,
            noncurrent.noncurrent_days,
            day_ms,
        ))
    }

    /// Whether a noncurrent version is due for permanent deletion at `now_ms`: it is old enough
    /// and, if the rule keeps `NewerNoncurrentVersions` = K, at least K noncurrent versions of
    /// the same key are newer than it (`newer_noncurrent` counts them).
    pub fn noncurrent_version_expires(
        &self,
        noncurrent_since_ms: i64,
        newer_noncurrent: u32,
        now_ms: i64,
        day_ms: i64,
    ) -> bool {
        let Some(expiry) = self.expiry_of_noncurrent(noncurrent_since_ms, day_ms) else {
            return false;
        };
        let keep = self
            .noncurrent_expiration
            .and_then(|noncurrent| noncurrent.newer_noncurrent_versions)
            .unwrap_or(0);
        expiry <= now_ms && newer_noncurrent >= keep
    }

    /// When a multipart upload initiated at `initiated_ms` is aborted under this rule.
    pub fn abort_upload_at(&self, initiated_ms: i64, day_ms: i64) -> Option<i64> {
        Some(after_days(
            initiated_ms,
            self.abort_incomplete_days?,
            day_ms,
        ))
    }

    /// Whether the rule removes expired object delete markers (a marker that is the only
    /// version left of its key).
    pub fn removes_expired_delete_markers(&self) -> bool {
        self.expiration == Some(Expiration::ExpiredObjectDeleteMarker)
    }
}

impl Filter {
    /// Checks the size bounds (AWS: `ObjectSizeLessThan` positive and above
    /// `ObjectSizeGreaterThan`).
    pub fn validate(&self) -> Result<(), LifecycleError> {
        if self.size_less_than == Some(0) {
            return Err(LifecycleError::SizeLessThanNotPositive);
        }
        if let (Some(greater), Some(less)) = (self.size_greater_than, self.size_less_than)
            && greater >= less
        {
            return Err(LifecycleError::SizeRangeEmpty);
        }
        Ok(())
    }

    /// Whether an object with this key, size and tags is selected (see [`Filter`]).
    pub fn matches(&self, key: &str, size: u64, tags: &[(String, String)]) -> bool {
        key.starts_with(self.prefix.as_str())
            && self.size_greater_than.is_none_or(|bound| size > bound)
            && self.size_less_than.is_none_or(|bound| size < bound)
            && self.tags.iter().all(|wanted| tags.contains(wanted))
    }
}

/// The first "midnight" (multiple of `day_ms` since the epoch) at or after `start_ms` plus
/// `days` days. A `day_ms` below 1 is taken as 1. Saturates instead of overflowing.
pub fn after_days(start_ms: i64, days: u32, day_ms: i64) -> i64 {
    let day_ms = day_ms.max(1);
    let due = start_ms.saturating_add(i64::from(days).saturating_mul(day_ms));
    next_midnight_at_or_after(due, day_ms)
}

/// The first multiple of `day_ms` (taken as at least 1) at or after `time_ms`, saturating.
pub fn next_midnight_at_or_after(time_ms: i64, day_ms: i64) -> i64 {
    let day_ms = day_ms.max(1);
    let floor = time_ms.div_euclid(day_ms).saturating_mul(day_ms);
    if floor == time_ms {
        floor
    } else {
        floor.saturating_add(day_ms)
    }
}

/// The `x-amz-expiration` answer for an object: among the enabled rules whose filter matches
/// it and that expire current versions (`Days` or `Date`), the one expiring it first (the
/// earliest rule in the configuration on a tie), with that expiry (unix ms). `None` when no
/// rule expires the object.
pub fn expiration_header_for(
    config: &LifecycleConfiguration,
    key: &str,
    size: u64,
    tags: &[(String, String)],
    created_ms: i64,
    day_ms: i64,
) -> Option<(i64, String)> {
    let mut best: Option<(i64, &Rule)> = None;
    for rule in &config.rules {
        if !rule.enabled || !rule.matches(key, size, tags) {
            continue;
        }
        let Some(expiry) = rule.expiry_of_current(created_ms, day_ms) else {
            continue;
        };
        if best.is_none_or(|(earliest, _)| expiry < earliest) {
            best = Some((expiry, rule));
        }
    }
    best.map(|(expiry, rule)| (expiry, rule.id.clone()))
}

#[cfg(test)]
mod tests;
