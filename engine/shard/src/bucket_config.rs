//! Byte encodings of the bucket configurations that `base` defines (object lock, lifecycle),
//! stored as BLOBs in the catalogue's `buckets` row (schema 9). Versioned and little-endian
//! like every record encoding (`record.rs`); an empty blob is "no configuration".

use base::lifecycle::{Expiration, Filter, LifecycleConfiguration, NoncurrentExpiration, Rule};
use base::object_lock::{
    DefaultRetention, ObjectLockConfiguration, RetentionMode, RetentionPeriod,
};

use crate::record::{DecodeError, Reader, len_u32, put_bytes, put_u32, put_u64};

const OBJECT_LOCK_FORMAT_VERSION: u8 = 1;
/// 2 adds a legacy-prefix flag after each rule and the transition minimum flag after the
/// rules; 1 (without them) is still read.
const LIFECYCLE_FORMAT_VERSION: u8 = 2;

/// Format, then a rule flag; with a rule: mode (1 GOVERNANCE, 2 COMPLIANCE), period kind
/// (1 days, 2 years) and its count.
pub fn encode_object_lock(config: Option<&ObjectLockConfiguration>) -> Vec<u8> {
    let Some(config) = config else {
        return Vec::new();
    };
    let mut out = vec![OBJECT_LOCK_FORMAT_VERSION];
    match &config.rule {
        None => out.push(0),
        Some(rule) => {
            out.push(1);
            out.push(match rule.mode {
                RetentionMode::Governance => 1,
                RetentionMode::Compliance => 2,
            });
            let (kind, count) = match rule.period {
                RetentionPeriod::Days(days) => (1, days),
                RetentionPeriod::Years(years) => (2, years),
            };
            out.push(kind);
            put_u32(&mut out, count);
        }
    }
    out
}

pub fn decode_object_lock(bytes: &[u8]) -> Result<Option<ObjectLockConfiguration>, DecodeError> {
    if bytes.is_empty() {
        return Ok(None);
    }
    let mut reader = Reader::new(bytes);
    if reader.u8()? != OBJECT_LOCK_FORMAT_VERSION {
        return Err(DecodeError("object lock: unknown format version"));
    }
    let rule = match reader.u8()? {
        0 => None,
        1 => {
            let mode = match reader.u8()? {
                1 => RetentionMode::Governance,
                2 => RetentionMode::Compliance,
                _ => return Err(DecodeError("object lock: mode")),
            };
            let period = match (reader.u8()?, reader.u32()?) {
                (1, days) => RetentionPeriod::Days(days),
                (2, years) => RetentionPeriod::Years(years),
                _ => return Err(DecodeError("object lock: period kind")),
            };
            Some(DefaultRetention { mode, period })
        }
        _ => return Err(DecodeError("object lock: rule flag")),
    };
    reader.finish()?;
    Ok(Some(ObjectLockConfiguration { rule }))
}

/// Format, rule count, then per rule: id, enabled, the filter (prefix, tags, the two size
/// bounds), the expiration (0 none, 1 days, 2 date, 3 expired delete markers), the
/// noncurrent expiration (flag, days, optional count) and the abort days (optional).
pub fn encode_lifecycle(config: Option<&LifecycleConfiguration>) -> Vec<u8> {
    let Some(config) = config else {
        return Vec::new();
    };
    let mut out = vec![LIFECYCLE_FORMAT_VERSION];
    put_u32(&mut out, len_u32(config.rules.len()));
    for rule in &config.rules {
        put_bytes(&mut out, rule.id.as_bytes());
        out.push(u8::from(rule.enabled));
        put_bytes(&mut out, rule.filter.prefix.as_bytes());
        put_u32(&mut out, len_u32(rule.filter.tags.len()));
        for (key, value) in &rule.filter.tags {
            put_bytes(&mut out, key.as_bytes());
            put_bytes(&mut out, value.as_bytes());
        }
        put_optional_u64(&mut out, rule.filter.size_greater_than);
        put_optional_u64(&mut out, rule.filter.size_less_than);
        match rule.expiration {
            None => out.push(0),
            Some(Expiration::Days(days)) => {
                out.push(1);
                put_u32(&mut out, days);
            }
            Some(Expiration::Date(date_ms)) => {
                out.push(2);
                put_u64(&mut out, date_ms.cast_unsigned());
            }
            Some(Expiration::ExpiredObjectDeleteMarker) => out.push(3),
        }
        match &rule.noncurrent_expiration {
            None => out.push(0),
            Some(noncurrent) => {
                out.push(1);
                put_u32(&mut out, noncurrent.noncurrent_days);
                put_optional_u64(
                    &mut out,
                    noncurrent.newer_noncurrent_versions.map(u64::from),
                );
            }
        }
        put_optional_u64(&mut out, rule.abort_incomplete_days.map(u64::from));
        out.push(u8::from(rule.legacy_prefix));
    }
    out.push(u8::from(config.transition_minimum_varies_by_class));
    out
}

fn put_optional_u64(out: &mut Vec<u8>, value: Option<u64>) {
    match value {
        Some(value) => {
            out.push(1);
            put_u64(out, value);
        }
        None => out.push(0),
    }
}

fn optional_u64(reader: &mut Reader<'_>) -> Result<Option<u64>, DecodeError> {
    match reader.u8()? {
        0 => Ok(None),
        1 => Ok(Some(reader.u64()?)),
        _ => Err(DecodeError("lifecycle: optional flag")),
    }
}

fn optional_u32(reader: &mut Reader<'_>) -> Result<Option<u32>, DecodeError> {
    optional_u64(reader)?
        .map(|value| u32::try_from(value).map_err(|_| DecodeError("lifecycle: count")))
        .transpose()
}

pub fn decode_lifecycle(bytes: &[u8]) -> Result<Option<LifecycleConfiguration>, DecodeError> {
    if bytes.is_empty() {
        return Ok(None);
    }
    let mut reader = Reader::new(bytes);
    let version = reader.u8()?;
    if version != 1 && version != LIFECYCLE_FORMAT_VERSION {
        return Err(DecodeError("lifecycle: unknown format version"));
    }
    // Every rule and every tag takes at least 4 bytes: counts beyond that are corrupt.
    let count_max = bytes.len() / 4;
    let count = reader.u32()? as usize;
    if count > count_max {
        return Err(DecodeError("lifecycle: rule count exceeds record"));
    }
    let mut rules = Vec::with_capacity(count);
    for _ in 0..count {
        rules.push(decode_rule(&mut reader, count_max, version)?);
    }
    let transition_minimum_varies_by_class =
        version >= 2 && flag(&mut reader, "lifecycle: transition minimum flag")?;
    reader.finish()?;
    Ok(Some(LifecycleConfiguration {
        rules,
        transition_minimum_varies_by_class,
    }))
}

fn decode_rule(
    reader: &mut Reader<'_>,
    count_max: usize,
    version: u8,
) -> Result<Rule, DecodeError> {
    let id = reader.string()?;
    let enabled = match reader.u8()? {
        0 => false,
        1 => true,
        _ => return Err(DecodeError("lifecycle: enabled flag")),
    };
    let prefix = reader.string()?;
    let tag_count = reader.u32()? as usize;
    if tag_count > count_max {
        return Err(DecodeError("lifecycle: tag count exceeds record"));
    }
    let mut tags = Vec::with_capacity(tag_count);
    for _ in 0..tag_count {
        tags.push((reader.string()?, reader.string()?));
    }
    let filter = Filter {
        prefix,
        tags,
        size_greater_than: optional_u64(reader)?,
        size_less_than: optional_u64(reader)?,
    };
    let expiration = match reader.u8()? {
        0 => None,
        1 => Some(Expiration::Days(reader.u32()?)),
        2 => Some(Expiration::Date(reader.u64()?.cast_signed())),
        3 => Some(Expiration::ExpiredObjectDeleteMarker),
        _ => return Err(DecodeError("lifecycle: expiration kind")),
    };
    let noncurrent_expiration = match reader.u8()? {
        0 => None,
        1 => Some(NoncurrentExpiration {
            noncurrent_days: reader.u32()?,
            newer_noncurrent_versions: optional_u32(reader)?,
        }),
        _ => return Err(DecodeError("lifecycle: noncurrent flag")),
    };
    Ok(Rule {
        id,
        enabled,
        filter,
        expiration,
        noncurrent_expiration,
        abort_incomplete_days: optional_u32(reader)?,
        legacy_prefix: version >= 2 && flag(reader, "lifecycle: legacy prefix flag")?,
    })
}

fn flag(reader: &mut Reader<'_>, what: &'static str) -> Result<bool, DecodeError> {
    match reader.u8()? {
        0 => Ok(false),
        1 => Ok(true),
        _ => Err(DecodeError(what)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_lock_round_trips() {
        for config in [
            None,
            Some(ObjectLockConfiguration { rule: None }),
            Some(ObjectLockConfiguration {
                rule: Some(DefaultRetention {
                    mode: RetentionMode::Compliance,
                    period: RetentionPeriod::Years(3),
                }),
            }),
        ] {
            let bytes = encode_object_lock(config.as_ref());
            assert_eq!(decode_object_lock(&bytes), Ok(config));
        }
        assert!(decode_object_lock(&[1, 1, 9, 1, 0, 0, 0, 0]).is_err());
    }

    #[test]
    fn lifecycle_round_trips_and_refuses_truncation() {
        let config = LifecycleConfiguration {
            rules: vec![
                Rule {
                    id: "logs".into(),
                    enabled: true,
                    filter: Filter {
                        prefix: "logs/".into(),
                        tags: vec![("k".into(), "v".into())],
                        size_greater_than: Some(10),
                        size_less_than: None,
                    },
                    expiration: Some(Expiration::Days(30)),
                    noncurrent_expiration: Some(NoncurrentExpiration {
                        noncurrent_days: 7,
                        newer_noncurrent_versions: Some(2),
                    }),
                    abort_incomplete_days: Some(1),
                    legacy_prefix: false,
                },
                Rule {
                    id: "markers".into(),
                    enabled: false,
                    filter: Filter::default(),
                    expiration: Some(Expiration::Date(1_700_000_000_000)),
                    noncurrent_expiration: None,
                    abort_incomplete_days: None,
                    legacy_prefix: true,
                },
            ],
            transition_minimum_varies_by_class: true,
        };
        let bytes = encode_lifecycle(Some(&config));
        assert_eq!(decode_lifecycle(&bytes), Ok(Some(config.clone())));
        // Format 1 (without the flags) is still read, as the defaults: one rule, whose
        // legacy flag sits just before the configuration's last byte.
        let mut one_rule = config.clone();
        one_rule.rules.truncate(1);
        one_rule.rules[0].legacy_prefix = true;
        let mut version_1 = encode_lifecycle(Some(&one_rule));
        version_1[0] = 1;
        version_1.truncate(version_1.len() - 2);
        one_rule.rules[0].legacy_prefix = false;
        one_rule.transition_minimum_varies_by_class = false;
        assert_eq!(decode_lifecycle(&version_1), Ok(Some(one_rule)));
        assert_eq!(decode_lifecycle(&[]), Ok(None));
        for cut in 1..bytes.len() {
            assert!(decode_lifecycle(&bytes[..cut]).is_err(), "cut at {cut}");
        }
    }
}
