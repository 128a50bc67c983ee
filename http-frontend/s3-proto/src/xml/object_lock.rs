//! Object Lock documents: `ObjectLockConfiguration` (Put/GetObjectLockConfiguration),
//! `Retention` (Put/GetObjectRetention), `LegalHold` (Put/GetObjectLegalHold), and the
//! `x-amz-object-lock-*` headers of PutObject, CopyObject and CreateMultipartUpload.
//!
//! ```xml
//! <ObjectLockConfiguration>
//!   <ObjectLockEnabled>Enabled</ObjectLockEnabled>
//!   <Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>30</Days></DefaultRetention></Rule>
//! </ObjectLockConfiguration>
//! <Retention><Mode>COMPLIANCE</Mode><RetainUntilDate>2030-01-01T00:00:00Z</RetainUntilDate>
//! </Retention>
//! <LegalHold><Status>ON</Status></LegalHold>
//! ```
//!
//! Errors are the ones S3 was observed to answer (LocalStack's recordings against S3, ceph
//! s3-tests, versitygw's issue tracker): a missing or other `ObjectLockEnabled`, an empty
//! `Rule` or `DefaultRetention`, a mode other than `GOVERNANCE`/`COMPLIANCE`, `Days` and
//! `Years` together or neither, a retention with only one of its two elements, and a legal
//! hold other than `ON`/`OFF` are `MalformedXML`; a period that is not positive or too large
//! is `InvalidArgument` naming `Days` or `Years`.

use base::object_lock::{
    DefaultRetention, LegalHold, ObjectLockConfiguration, ObjectRetention, RetentionMode,
    RetentionPeriod, RetentionPeriodError,
};

use super::reader::{Step, Walker, require_blank};
use super::{S3_XML_NAMESPACE, XML_DECLARATION, malformed_xml, push_display_element};
use crate::error::{S3Error, S3ErrorCode};
use crate::time_format::{parse_iso8601_millis, write_iso8601_millis};

/// Parses a PutObjectLockConfiguration body. A configuration without `Rule` enables Object
/// Lock with no default retention (and removes an existing default).
pub fn parse_object_lock_configuration(body: &[u8]) -> Result<ObjectLockConfiguration, S3Error> {
    let mut walker = Walker::new(body)?;
    walker.expect_root("ObjectLockConfiguration")?;
    let mut path: Vec<String> = Vec::new();
    let mut enabled: Option<String> = None;
    let (mut rule_seen, mut retention_seen) = (false, false);
    let (mut mode, mut days, mut years): (Option<String>, Option<String>, Option<String>) =
        (None, None, None);
    loop {
        match walker.next()? {
            Step::Open { name, .. } => {
                let allowed = match (path.as_slice(), name.as_str()) {
                    ([], "ObjectLockEnabled") | ([_, _], "Mode" | "Days" | "Years") => true,
                    ([], "Rule") => !std::mem::replace(&mut rule_seen, true),
                    ([rule], "DefaultRetention") if rule == "Rule" => {
                        !std::mem::replace(&mut retention_seen, true)
                    }
                    _ => false,
                };
                if !allowed {
                    return Err(malformed_xml());
                }
                path.push(name);
            }
            Step::Close { name, text, .. } => {
                path.pop();
                let slot = match (path.len(), name.as_str()) {
                    (0, "ObjectLockEnabled") => &mut enabled,
                    (2, "Mode") => &mut mode,
                    (2, "Days") => &mut days,
                    (2, "Years") => &mut years,
                    _ => {
                        require_blank(&text)?;
                        continue;
                    }
                };
                if slot.replace(text.trim().to_owned()).is_some() {
                    return Err(malformed_xml());
                }
            }
            Step::End => break,
        }
    }
    if enabled.as_deref() != Some("Enabled") || (rule_seen && !retention_seen) {
        return Err(malformed_xml());
    }
    if !rule_seen {
        return Ok(ObjectLockConfiguration { rule: None });
    }
    let mode = mode
        .as_deref()
        .and_then(RetentionMode::parse)
        .ok_or_else(malformed_xml)?;
    let period = match (days, years) {
        (Some(days), None) => RetentionPeriod::Days(period_value("Days", &days)?),
        (None, Some(years)) => RetentionPeriod::Years(period_value("Years", &years)?),
        _ => return Err(malformed_xml()),
    };
    Ok(ObjectLockConfiguration {
        rule: Some(DefaultRetention { mode, period }),
    })
}

/// A `Days` or `Years` value: an integer (else `MalformedXML`), positive and within AWS's
/// bound (else `InvalidArgument`, as S3 answers).
fn period_value(element: &str, text: &str) -> Result<u32, S3Error> {
    let value: i64 = text.parse().map_err(|_| malformed_xml())?;
    let period = match u32::try_from(value.max(0)) {
        Ok(value) if element == "Days" => RetentionPeriod::Days(value),
        Ok(value) => RetentionPeriod::Years(value),
        Err(_) => return Err(period_error(RetentionPeriodError::TooLarge, element, text)),
    };
    period
        .validate()
        .map_err(|error| period_error(error, element, text))?;
    Ok(match period {
        RetentionPeriod::Days(value) | RetentionPeriod::Years(value) => value,
    })
}

fn period_error(error: RetentionPeriodError, element: &str, text: &str) -> S3Error {
    let message = match error {
        RetentionPeriodError::NotPositive => {
            "Default retention period must be a positive integer value"
        }
        RetentionPeriodError::TooLarge => "Default retention period too large.",
    };
    S3Error::invalid_argument(message, element, text)
}

/// The GetObjectLockConfiguration answer.
pub fn object_lock_configuration_xml(configuration: &ObjectLockConfiguration) -> String {
    let mut out = String::with_capacity(320);
    out.push_str(XML_DECLARATION);
    out.push_str("<ObjectLockConfiguration xmlns=\"");
    out.push_str(S3_XML_NAMESPACE);
    out.push_str("\"><ObjectLockEnabled>Enabled</ObjectLockEnabled>");
    if let Some(rule) = &configuration.rule {
        out.push_str("<Rule><DefaultRetention><Mode>");
        out.push_str(rule.mode.as_str());
        out.push_str("</Mode>");
        match rule.period {
            RetentionPeriod::Days(days) => push_display_element(&mut out, "Days", days),
            RetentionPeriod::Years(years) => push_display_element(&mut out, "Years", years),
        }
        out.push_str("</DefaultRetention></Rule>");
    }
    out.push_str("</ObjectLockConfiguration>");
    out
}

/// Parses a PutObjectRetention body. `Ok(None)` for an empty `<Retention/>`, which asks to
/// remove the retention (allowed only under GOVERNANCE with bypass: the handler decides, with
/// `base::object_lock::check_retention_change`). The date is ISO 8601 with a zone, with or
/// without fractional seconds (botocore sends `2030-01-01T00:00:00Z`). Whether it lies in the
/// future is checked by the handler ([`check_retain_until_in_future`]).
pub fn parse_retention(body: &[u8]) -> Result<Option<ObjectRetention>, S3Error> {
    let mut walker = Walker::new(body)?;
    walker.expect_root("Retention")?;
    let (mut mode, mut date): (Option<String>, Option<String>) = (None, None);
    loop {
        match walker.next()? {
            Step::Open { name, depth: 2 } if name == "Mode" || name == "RetainUntilDate" => {}
            Step::Open { .. } => return Err(malformed_xml()),
            Step::Close {
                name,
                depth: 2,
                text,
            } => {
                let slot = if name == "Mode" { &mut mode } else { &mut date };
                if slot.replace(text.trim().to_owned()).is_some() {
                    return Err(malformed_xml());
                }
            }
            Step::Close { text, .. } => require_blank(&text)?,
            Step::End => break,
        }
    }
    match (mode, date) {
        (None, None) => Ok(None),
        (Some(mode), Some(date)) => Ok(Some(ObjectRetention {
            mode: RetentionMode::parse(&mode).ok_or_else(malformed_xml)?,
            retain_until_ms: parse_iso8601_millis(&date).ok_or_else(malformed_xml)?,
        })),
        _ => Err(malformed_xml()),
    }
}

/// `InvalidArgument` "The retain until date must be in the future!" (S3's words) unless
/// `retain_until_ms` is later than `now_ms`. `argument_name` is `RetainUntilDate` for the
/// XML body, `x-amz-object-lock-retain-until-date` for the header.
pub fn check_retain_until_in_future(
    retain_until_ms: i64,
    now_ms: i64,
    argument_name: &str,
) -> Result<(), S3Error> {
    if retain_until_ms > now_ms {
        return Ok(());
    }
    let mut value = String::new();
    write_iso8601_millis(&mut value, retain_until_ms);
    Err(S3Error::invalid_argument(
        "The retain until date must be in the future!",
        argument_name,
        &value,
    ))
}

/// The GetObjectRetention answer.
pub fn retention_xml(retention: &ObjectRetention) -> String {
    let mut out = String::with_capacity(200);
    out.push_str(XML_DECLARATION);
    out.push_str("<Retention xmlns=\"");
    out.push_str(S3_XML_NAMESPACE);
    out.push_str("\"><Mode>");
    out.push_str(retention.mode.as_str());
    out.push_str("</Mode><RetainUntilDate>");
    write_iso8601_millis(&mut out, retention.retain_until_ms);
    out.push_str("</RetainUntilDate></Retention>");
    out
}

/// Parses a PutObjectLegalHold body: `<LegalHold><Status>ON|OFF</Status></LegalHold>`.
/// Anything else (a missing or repeated `Status`, another value) is `MalformedXML`.
pub fn parse_legal_hold(body: &[u8]) -> Result<LegalHold, S3Error> {
    let mut walker = Walker::new(body)?;
    walker.expect_root("LegalHold")?;
    let mut status: Option<LegalHold> = None;
    loop {
        match walker.next()? {
            Step::Open { name, depth: 2 } if name == "Status" => {}
            Step::Open { .. } => return Err(malformed_xml()),
            Step::Close { depth: 2, text, .. } => {
                let hold = LegalHold::parse(text.trim()).ok_or_else(malformed_xml)?;
                if status.replace(hold).is_some() {
                    return Err(malformed_xml());
                }
            }
            Step::Close { text, .. } => require_blank(&text)?,
            Step::End => return status.ok_or_else(malformed_xml),
        }
    }
}

/// The GetObjectLegalHold answer.
pub fn legal_hold_xml(hold: LegalHold) -> String {
    let mut out = String::with_capacity(160);
    out.push_str(XML_DECLARATION);
    out.push_str("<LegalHold xmlns=\"");
    out.push_str(S3_XML_NAMESPACE);
    out.push_str("\"><Status>");
    out.push_str(hold.as_str());
    out.push_str("</Status></LegalHold>");
    out
}

/// The Object Lock headers of a write (PutObject, CopyObject, CreateMultipartUpload).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ObjectLockHeaders {
    /// Both `x-amz-object-lock-mode` and `-retain-until-date`, or neither.
    pub retention: Option<ObjectRetention>,
    /// `x-amz-object-lock-legal-hold`.
    pub legal_hold: Option<LegalHold>,
}

impl ObjectLockHeaders {
    /// Whether the request carries any Object Lock parameter.
    pub fn is_empty(&self) -> bool {
        self.retention.is_none() && self.legal_hold.is_none()
    }
}

const MODE_HEADER: &str = "x-amz-object-lock-mode";
const DATE_HEADER: &str = "x-amz-object-lock-retain-until-date";
const HOLD_HEADER: &str = "x-amz-object-lock-legal-hold";

/// Parses the three `x-amz-object-lock-*` header values (each `None` when absent), with S3's
/// `InvalidArgument` answers: "Unknown wormMode directive." for a mode, "The retain until date
/// must be provided in ISO 8601 format" for a date, "Legal Hold must be either of 'ON' or
/// 'OFF'" for a hold, and "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode
/// must both be supplied" (naming the missing one) when only one of mode and date is given.
/// A date in the past is the handler's to refuse ([`check_retain_until_in_future`]), as is a
/// bucket without Object Lock.
pub fn parse_object_lock_headers(
    mode: Option<&str>,
    retain_until: Option<&str>,
    legal_hold: Option<&str>,
) -> Result<ObjectLockHeaders, S3Error> {
    let legal_hold = match legal_hold {
        None => None,
        Some(value) => Some(LegalHold::parse(value.trim()).ok_or_else(|| {
            S3Error::invalid_argument(
                "Legal Hold must be either of 'ON' or 'OFF'",
                HOLD_HEADER,
                value,
            )
        })?),
    };
    let retention = match (mode, retain_until) {
        (None, None) => None,
        (Some(_), None) | (None, Some(_)) => {
            let missing = if mode.is_none() {
                MODE_HEADER
            } else {
                DATE_HEADER
            };
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidArgument,
                "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be \
                 supplied",
            )
            .extra("ArgumentName", missing));
        }
        (Some(mode), Some(date)) => Some(ObjectRetention {
            mode: RetentionMode::parse(mode.trim()).ok_or_else(|| {
                S3Error::invalid_argument("Unknown wormMode directive.", MODE_HEADER, mode)
            })?,
            retain_until_ms: parse_iso8601_millis(date).ok_or_else(|| {
                S3Error::invalid_argument(
                    "The retain until date must be provided in ISO 8601 format",
                    DATE_HEADER,
                    date,
                )
            })?,
        }),
    };
    Ok(ObjectLockHeaders {
        retention,
        legal_hold,
    })
}

#[cfg(test)]
mod tests;
