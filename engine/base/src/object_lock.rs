//! Object Lock as S3 defines it: retention modes and periods, a bucket's default retention,
//! legal holds, and the pure rules that decide whether a version may be destroyed and how its
//! retention may change. No clock is read here: callers pass `now_ms`.
//!
//! Sources: AWS S3 user guide "Locking objects with Object Lock" and the API reference
//! (`PutObjectLockConfiguration`, `PutObjectRetention`, `PutObjectLegalHold`):
//! - COMPLIANCE: "a protected object version can't be overwritten or deleted by any user,
//!   including the root user ... its retention mode can't be changed, and its retention period
//!   can't be shortened." It can be extended.
//! - GOVERNANCE: deleting the version, shortening or removing the retention, or changing its
//!   mode needs `x-amz-bypass-governance-retention: true` from an identity allowed to bypass;
//!   extending it does not.
//! - A legal hold protects a version regardless of retention, and bypassing governance does
//!   not lift it. A retention whose date has passed protects nothing.
//! - Default retention: "adding the specified duration to the object version's creation
//!   timestamp". A year is 365 days here: AWS counts "1 year as 365 days" for its event-hold
//!   durations and documents no calendar arithmetic for default retention.

/// Longest default retention in days that AWS accepts ("Default retention period too large."
/// beyond it; 36,500 days = 100 years, the maximum retention the user guide names).
pub const DEFAULT_RETENTION_DAYS_MAX: u32 = 36_500;

/// Longest default retention in years that AWS accepts (100, see above).
pub const DEFAULT_RETENTION_YEARS_MAX: u32 = 100;

/// Milliseconds in one day of retention (retention always uses real days; only lifecycle has a
/// shortened test day).
pub const RETENTION_DAY_MS: i64 = 86_400_000;

/// Days in one year of retention (see the module documentation).
pub const RETENTION_YEAR_DAYS: i64 = 365;

/// An object version's retention mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetentionMode {
    Governance,
    Compliance,
}

impl RetentionMode {
    /// The wire spelling: `GOVERNANCE` or `COMPLIANCE`.
    pub fn as_str(self) -> &'static str {
        match self {
            RetentionMode::Governance => "GOVERNANCE",
            RetentionMode::Compliance => "COMPLIANCE",
        }
    }

    /// Parses the wire spelling, exactly (AWS refuses `governance`).
    pub fn parse(text: &str) -> Option<RetentionMode> {
        match text {
            "GOVERNANCE" => Some(RetentionMode::Governance),
            "COMPLIANCE" => Some(RetentionMode::Compliance),
            _ => None,
        }
    }
}

/// The length of a default retention: whole days or whole years (never both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetentionPeriod {
    Days(u32),
    Years(u32),
}

/// Why a default retention period is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetentionPeriodError {
    /// Zero (negative values are the caller's to map here too).
    NotPositive,
    /// More than `DEFAULT_RETENTION_DAYS_MAX` days or `DEFAULT_RETENTION_YEARS_MAX` years.
    TooLarge,
}

impl RetentionPeriod {
    /// Checks AWS's bounds: at least one day or year, at most 36,500 days or 100 years.
    pub fn validate(self) -> Result<(), RetentionPeriodError> {
        let (value, max) = match self {
            RetentionPeriod::Days(days) => (days, DEFAULT_RETENTION_DAYS_MAX),
            RetentionPeriod::Years(years) => (years, DEFAULT_RETENTION_YEARS_MAX),
        };
        if value == 0 {
            Err(RetentionPeriodError::NotPositive)
        } else if value > max {
            Err(RetentionPeriodError::TooLarge)
        } else {
            Ok(())
        }
    }

    /// The period in milliseconds (a year is 365 days).
    pub fn as_millis(self) -> i64 {
        let days = match self {
            RetentionPeriod::Days(days) => i64::from(days),
            RetentionPeriod::Years(years) => i64::from(years).saturating_mul(RETENTION_YEAR_DAYS),
        };
        days.saturating_mul(RETENTION_DAY_MS)
    }
}

/// A bucket's default retention: applied to every new version written without its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DefaultRetention {
    pub mode: RetentionMode,
    pub period: RetentionPeriod,
}

/// A bucket's Object Lock configuration. A bucket has Object Lock enabled exactly when it has
/// one of these (possibly without a default rule); it can never be removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ObjectLockConfiguration {
    pub rule: Option<DefaultRetention>,
}

/// When a version created at `created_ms` (unix ms) stops being protected by a default
/// retention of `period`: creation time plus the period, to the millisecond (no rounding, as
/// AWS: "adding the specified duration to the object version's creation timestamp").
pub fn default_retain_until_ms(created_ms: i64, period: RetentionPeriod) -> i64 {
    created_ms.saturating_add(period.as_millis())
}

/// One version's retention: its mode and the instant (unix ms) it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ObjectRetention {
    pub mode: RetentionMode,
    pub retain_until_ms: i64,
}

impl ObjectRetention {
    /// Whether the retention still protects the version at `now_ms` (its date is later).
    pub fn is_active(&self, now_ms: i64) -> bool {
        self.retain_until_ms > now_ms
    }
}

/// A version's legal hold.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub enum LegalHold {
    On,
    #[default]
    Off,
}

impl LegalHold {
    /// The wire spelling: `ON` or `OFF`.
    pub fn as_str(self) -> &'static str {
        match self {
            LegalHold::On => "ON",
            LegalHold::Off => "OFF",
        }
    }

    /// Parses the wire spelling, exactly.
    pub fn parse(text: &str) -> Option<LegalHold> {
        match text {
            "ON" => Some(LegalHold::On),
            "OFF" => Some(LegalHold::Off),
            _ => None,
        }
    }
}

/// Why Object Lock refuses an operation on a version. Callers answer 403 AccessDenied for
/// every one ("Access Denied because object protected by object lock.", as S3 does).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockDenial {
    /// The version is under a legal hold.
    LegalHold,
    /// An active COMPLIANCE retention: nobody may delete, shorten, remove or change mode.
    Compliance,
    /// An active GOVERNANCE retention and the request did not bypass it.
    Governance,
}

/// Whether a version may be permanently deleted (DeleteObject with a version id,
/// DeleteObjects, lifecycle, DeleteBucket). `bypass_governance` is true only when the request
/// carries `x-amz-bypass-governance-retention: true` *and* its identity may bypass; lifecycle
/// never bypasses.
pub fn check_version_delete(
    retention: Option<&ObjectRetention>,
    legal_hold: LegalHold,
    now_ms: i64,
    bypass_governance: bool,
) -> Result<(), LockDenial> {
    if legal_hold == LegalHold::On {
        return Err(LockDenial::LegalHold);
    }
    match retention {
        Some(retention) if retention.is_active(now_ms) => match retention.mode {
            RetentionMode::Compliance => Err(LockDenial::Compliance),
            RetentionMode::Governance if !bypass_governance => Err(LockDenial::Governance),
            RetentionMode::Governance => Ok(()),
        },
        _ => Ok(()),
    }
}

/// Whether a version's retention may change from `current` to `new` (`None` removes it), as
/// PutObjectRetention asks. The same mode with a date at least as late is always allowed (an
/// extension). Against an active COMPLIANCE retention nothing else is, bypass or not; against
/// an active GOVERNANCE retention a shorter date, a removal or a mode change needs
/// `bypass_governance` (see [`check_version_delete`] for its meaning). An expired or absent
/// retention may be replaced by anything.
pub fn check_retention_change(
    current: Option<&ObjectRetention>,
    new: Option<&ObjectRetention>,
    now_ms: i64,
    bypass_governance: bool,
) -> Result<(), LockDenial> {
    let Some(current) = current.filter(|current| current.is_active(now_ms)) else {
        return Ok(());
    };
    let is_extension = new.is_some_and(|new| {
        new.mode == current.mode && new.retain_until_ms >= current.retain_until_ms
    });
    if is_extension {
        return Ok(());
    }
    match current.mode {
        RetentionMode::Compliance => Err(LockDenial::Compliance),
        RetentionMode::Governance if bypass_governance => Ok(()),
        RetentionMode::Governance => Err(LockDenial::Governance),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = RETENTION_DAY_MS;

    #[test]
    fn wire_spellings_round_trip_exactly() {
        for mode in [RetentionMode::Governance, RetentionMode::Compliance] {
            assert_eq!(RetentionMode::parse(mode.as_str()), Some(mode));
        }
        for bad in ["governance", "Compliance", "", " GOVERNANCE", "abc"] {
            assert_eq!(RetentionMode::parse(bad), None, "{bad}");
        }
        for hold in [LegalHold::On, LegalHold::Off] {
            assert_eq!(LegalHold::parse(hold.as_str()), Some(hold));
        }
        for bad in ["on", "Off", "", "TRUE"] {
            assert_eq!(LegalHold::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn periods_have_aws_bounds() {
        use RetentionPeriod::{Days, Years};
        assert_eq!(Days(1).validate(), Ok(()));
        assert_eq!(Days(36_500).validate(), Ok(()));
        assert_eq!(Years(1).validate(), Ok(()));
        assert_eq!(Years(100).validate(), Ok(()));
        assert_eq!(Days(0).validate(), Err(RetentionPeriodError::NotPositive));
        assert_eq!(Years(0).validate(), Err(RetentionPeriodError::NotPositive));
        assert_eq!(Days(36_501).validate(), Err(RetentionPeriodError::TooLarge));
        assert_eq!(Years(101).validate(), Err(RetentionPeriodError::TooLarge));
    }

    #[test]
    fn default_retention_adds_days_or_365_day_years_exactly() {
        let created = 1_700_000_000_123;
        assert_eq!(
            default_retain_until_ms(created, RetentionPeriod::Days(1)),
            created + DAY
        );
        assert_eq!(
            default_retain_until_ms(created, RetentionPeriod::Years(2)),
            created + 730 * DAY
        );
        assert_eq!(
            default_retain_until_ms(i64::MAX - 1, RetentionPeriod::Years(100)),
            i64::MAX
        );
    }

    fn retention(mode: RetentionMode, until: i64) -> ObjectRetention {
        ObjectRetention {
            mode,
            retain_until_ms: until,
        }
    }

    #[test]
    fn deletes_respect_holds_and_active_retentions() {
        use RetentionMode::{Compliance, Governance};
        let now = 1000;
        let check = |r: Option<ObjectRetention>, hold, bypass| {
            check_version_delete(r.as_ref(), hold, now, bypass)
        };
        assert_eq!(check(None, LegalHold::Off, false), Ok(()));
        assert_eq!(check(None, LegalHold::On, true), Err(LockDenial::LegalHold));
        let compliance = Some(retention(Compliance, now + 1));
        assert_eq!(
            check(compliance, LegalHold::Off, true),
            Err(LockDenial::Compliance)
        );
        let governance = Some(retention(Governance, now + 1));
        assert_eq!(
            check(governance, LegalHold::Off, false),
            Err(LockDenial::Governance)
        );
        assert_eq!(check(governance, LegalHold::Off, true), Ok(()));
        assert_eq!(
            check(governance, LegalHold::On, true),
            Err(LockDenial::LegalHold)
        );
        // A retention ending exactly now no longer protects.
        assert_eq!(
            check(Some(retention(Compliance, now)), LegalHold::Off, false),
            Ok(())
        );
    }

    #[test]
    fn compliance_can_only_be_extended() {
        use RetentionMode::{Compliance, Governance};
        let now = 1000;
        let current = retention(Compliance, 5000);
        let check = |new: Option<ObjectRetention>, bypass| {
            check_retention_change(Some(&current), new.as_ref(), now, bypass)
        };
        assert_eq!(check(Some(retention(Compliance, 5000)), false), Ok(()));
        assert_eq!(check(Some(retention(Compliance, 9000)), false), Ok(()));
        for bypass in [false, true] {
            assert_eq!(
                check(Some(retention(Compliance, 4999)), bypass),
                Err(LockDenial::Compliance)
            );
            assert_eq!(
                check(Some(retention(Governance, 9000)), bypass),
                Err(LockDenial::Compliance)
            );
            assert_eq!(check(None, bypass), Err(LockDenial::Compliance));
        }
    }

    #[test]
    fn governance_needs_bypass_to_shorten_remove_or_change_mode() {
        use RetentionMode::{Compliance, Governance};
        let now = 1000;
        let current = retention(Governance, 5000);
        let check = |new: Option<ObjectRetention>, bypass| {
            check_retention_change(Some(&current), new.as_ref(), now, bypass)
        };
        assert_eq!(check(Some(retention(Governance, 6000)), false), Ok(()));
        for new in [
            Some(retention(Governance, 4000)),
            Some(retention(Compliance, 9000)),
            None,
        ] {
            assert_eq!(check(new, false), Err(LockDenial::Governance));
            assert_eq!(check(new, true), Ok(()));
        }
    }

    #[test]
    fn expired_or_absent_retention_allows_anything() {
        let expired = retention(RetentionMode::Compliance, 1000);
        assert_eq!(
            check_retention_change(Some(&expired), None, 1000, false),
            Ok(())
        );
        let new = retention(RetentionMode::Governance, 1);
        assert_eq!(
            check_retention_change(None, Some(&new), 1000, false),
            Ok(())
        );
    }
}
