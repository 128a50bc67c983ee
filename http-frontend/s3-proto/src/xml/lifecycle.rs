//! Bucket lifecycle: the `LifecycleConfiguration` body of PutBucketLifecycleConfiguration, the
//! answer of GetBucketLifecycleConfiguration, and the `x-amz-expiration` header value.
//!
//! ```xml
//! <LifecycleConfiguration>
//!   <Rule>
//!     <ID>optional</ID>
//!     <Filter>                   <!-- or the legacy <Prefix>p</Prefix>, exactly one of them -->
//!       <Prefix>logs/</Prefix>   <!-- at most one of Prefix, Tag, ObjectSize..., And -->
//!       <And><Prefix/><Tag><Key/><Value/></Tag>...<ObjectSizeGreaterThan/>
//!            <ObjectSizeLessThan/></And>
//!     </Filter>
//!     <Status>Enabled|Disabled</Status>
//!     <Expiration><Days/> | <Date/> | <ExpiredObjectDeleteMarker/></Expiration>
//!     <NoncurrentVersionExpiration><NoncurrentDays/><NewerNoncurrentVersions/>
//!     </NoncurrentVersionExpiration>
//!     <AbortIncompleteMultipartUpload><DaysAfterInitiation/></AbortIncompleteMultipartUpload>
//!   </Rule>
//! </LifecycleConfiguration>
//! ```
//!
//! Error codes: the document's structure (unknown or repeated elements, a missing or other
//! `Status`, both or neither of `Prefix` and `Filter`, two predicates in a `Filter` outside
//! `And`, an empty `And`, an `Expiration` with two forms or none, a non-integer number, an
//! unparsable date, no rule, more than 1000 rules) is `MalformedXML`; bad values (day counts
//! that are not positive, a `Date` not at midnight UTC, size bounds, an ID over 255 characters
//! or repeated) are `InvalidArgument`, with AWS's messages; a rule without an action and a tag
//! filter with `ExpiredObjectDeleteMarker` or `AbortIncompleteMultipartUpload` are
//! `InvalidRequest`; filter tags follow the tagging rules (`InvalidTag`). `Transition` and
//! `NoncurrentVersionTransition` are refused with `InvalidStorageClass`: this server has only
//! the STANDARD storage class, and a rule that can never run is not stored.
//!
//! `ExpiredObjectDeleteMarker` `false` is accepted and means nothing (an `Expiration` holding
//! only it is dropped), so tools that always send the element with `Days` keep working.
//! Rules without an ID get one (`base::lifecycle::LifecycleConfiguration::assign_missing_ids`).

use base::lifecycle::{
    Expiration, Filter, LIFECYCLE_RULES_MAX, LifecycleConfiguration, LifecycleError,
    NoncurrentExpiration, Rule,
};

use super::reader::{Step, Walker, require_blank};
use super::tagging::{TagTarget, validate_tags};
use super::{S3_XML_NAMESPACE, XML_DECLARATION, malformed_xml, push_display_element, push_element};
use crate::error::{S3Error, S3ErrorCode};
use crate::http_field::has_control;
use crate::time_format::{
    UNIX_MS_MAX, http_date_from_millis, parse_iso8601_millis, write_iso8601_millis,
};

/// Parses and validates a PutBucketLifecycleConfiguration body (see the module docs for the
/// error codes). Rules without an ID are given one.
pub fn parse_lifecycle_configuration(body: &[u8]) -> Result<LifecycleConfiguration, S3Error> {
    let mut walker = Walker::new(body)?;
    walker.expect_root("LifecycleConfiguration")?;
    let mut path: Vec<String> = Vec::new();
    let mut rules: Vec<Rule> = Vec::new();
    let mut draft = RuleDraft::default();
    loop {
        match walker.next()? {
            Step::Open { name, .. } => {
                let names: Vec<&str> = path.iter().map(String::as_str).collect();
                if names.is_empty() && name == "Rule" {
                    if rules.len() == LIFECYCLE_RULES_MAX {
                        return Err(lifecycle_error(&LifecycleError::TooManyRules));
                    }
                    draft = RuleDraft::default();
                } else {
                    draft.open(&names, &name)?;
                }
                path.push(name);
            }
            Step::Close { name, text, .. } => {
                path.pop();
                let names: Vec<&str> = path.iter().map(String::as_str).collect();
                if names.is_empty() && name == "Rule" {
                    require_blank(&text)?;
                    rules.push(std::mem::take(&mut draft).finish()?);
                } else {
                    draft.close(&names, &name, text)?;
                }
            }
            Step::End => break,
        }
    }
    let mut configuration = LifecycleConfiguration {
        rules,
        ..LifecycleConfiguration::default()
    };
    for rule in &configuration.rules {
        check_rule_values(rule)?;
    }
    configuration.assign_missing_ids();
    configuration
        .validate()
        .map_err(|error| lifecycle_error(&error))?;
    Ok(configuration)
}

/// The S3 error for a refused configuration (codes in the module docs).
pub fn lifecycle_error(error: &LifecycleError) -> S3Error {
    let code = match error {
        LifecycleError::NoRules | LifecycleError::TooManyRules => S3ErrorCode::MalformedXML,
        LifecycleError::EmptyId
        | LifecycleError::IdTooLong
        | LifecycleError::DuplicateId(_)
        | LifecycleError::ExpirationDaysNotPositive
        | LifecycleError::DateNotMidnight
        | LifecycleError::NoncurrentDaysNotPositive
        | LifecycleError::NewerNoncurrentVersionsOutOfRange
        | LifecycleError::AbortDaysNotPositive
        | LifecycleError::SizeRangeEmpty
        | LifecycleError::SizeLessThanNotPositive => S3ErrorCode::InvalidArgument,
        LifecycleError::NoAction
        | LifecycleError::DeleteMarkerWithTags
        | LifecycleError::AbortWithTags => S3ErrorCode::InvalidRequest,
    };
    S3Error::with_message(code, error.message())
}

/// Checks made here rather than in `base`: the ID must be free of control characters (it is
/// sent in the `x-amz-expiration` header), and filter tags follow the tagging rules.
fn check_rule_values(rule: &Rule) -> Result<(), S3Error> {
    if has_control(&rule.id) {
        return Err(S3Error::with_message(
            S3ErrorCode::InvalidArgument,
            "The ID of a lifecycle rule must not contain control characters.",
        ));
    }
    validate_tags(&rule.filter.tags, TagTarget::Bucket)
}

fn transition_refused(element: &str) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::InvalidStorageClass,
        format!(
            "{element} is not supported: this server has only the STANDARD storage class, so \
             a lifecycle rule cannot move objects to another one."
        ),
    )
}

/// One `<Rule>` as read, before its structure is checked.
#[derive(Default)]
struct RuleDraft {
    id: Option<String>,
    status: Option<String>,
    legacy_prefix: Option<String>,
    filter: Option<FilterDraft>,
    expiration: Option<ExpirationDraft>,
    noncurrent: Option<NoncurrentDraft>,
    abort: Option<AbortDraft>,
    /// The `<Tag>` being read.
    tag: (Option<String>, Option<String>),
}

#[derive(Default)]
struct FilterDraft {
    prefix: Option<String>,
    tags: Vec<(String, String)>,
    greater: Option<String>,
    less: Option<String>,
    and: Option<Box<FilterDraft>>,
}

#[derive(Default)]
struct ExpirationDraft {
    days: Option<String>,
    date: Option<String>,
    delete_marker: Option<String>,
}

#[derive(Default)]
struct AbortDraft {
    days: Option<String>,
}

#[derive(Default)]
struct NoncurrentDraft {
    days: Option<String>,
    newer: Option<String>,
}

/// Stores a leaf's text, refusing a repeated element.
fn set_once(slot: &mut Option<String>, text: String) -> Result<(), S3Error> {
    if slot.replace(text).is_some() {
        return Err(malformed_xml());
    }
    Ok(())
}

/// Marks a container element as opened, refusing a second one.
fn open_once<T: Default>(slot: &mut Option<T>) -> Result<(), S3Error> {
    if slot.is_some() {
        return Err(malformed_xml());
    }
    *slot = Some(T::default());
    Ok(())
}

impl RuleDraft {
    /// An element opened below `path` (names under the root).
    fn open(&mut self, path: &[&str], name: &str) -> Result<(), S3Error> {
        match (path, name) {
            (["Rule"], "Filter") => open_once(&mut self.filter),
            (["Rule"], "Expiration") => open_once(&mut self.expiration),
            (["Rule"], "NoncurrentVersionExpiration") => open_once(&mut self.noncurrent),
            (["Rule"], "AbortIncompleteMultipartUpload") => open_once(&mut self.abort),
            (["Rule"], "Transition" | "NoncurrentVersionTransition") => {
                Err(transition_refused(name))
            }
            (["Rule", "Filter"], "And") => {
                let filter = self.filter.as_mut().ok_or_else(malformed_xml)?;
                open_once(&mut filter.and)
            }
            (["Rule", "Filter"] | ["Rule", "Filter", "And"], "Tag") => {
                self.tag = (None, None);
                Ok(())
            }
            (["Rule"], "ID" | "Status" | "Prefix")
            | (
                ["Rule", "Filter"] | ["Rule", "Filter", "And"],
                "Prefix" | "ObjectSizeGreaterThan" | "ObjectSizeLessThan",
            )
            | (["Rule", "Filter", "Tag"] | ["Rule", "Filter", "And", "Tag"], "Key" | "Value")
            | (["Rule", "Expiration"], "Days" | "Date" | "ExpiredObjectDeleteMarker")
            | (
                ["Rule", "NoncurrentVersionExpiration"],
                "NoncurrentDays" | "NewerNoncurrentVersions",
            )
            | (["Rule", "AbortIncompleteMultipartUpload"], "DaysAfterInitiation") => Ok(()),
            _ => Err(malformed_xml()),
        }
    }

    /// An element closed; `path` is its parent's path (names under the root).
    fn close(&mut self, path: &[&str], name: &str, text: String) -> Result<(), S3Error> {
        match (path, name) {
            (["Rule"], "ID") => set_once(&mut self.id, text),
            (["Rule"], "Status") => set_once(&mut self.status, text),
            (["Rule"], "Prefix") => set_once(&mut self.legacy_prefix, text),
            (["Rule", "Filter", "Tag"] | ["Rule", "Filter", "And", "Tag"], "Key") => {
                set_once(&mut self.tag.0, text)
            }
            (["Rule", "Filter", "Tag"] | ["Rule", "Filter", "And", "Tag"], "Value") => {
                set_once(&mut self.tag.1, text)
            }
            (
                ["Rule", "Filter", ..],
                "Tag" | "Prefix" | "ObjectSizeGreaterThan" | "ObjectSizeLessThan",
            ) => {
                let is_tag = name == "Tag";
                if is_tag {
                    require_blank(&text)?;
                }
                let filter = self.filter.as_mut().ok_or_else(malformed_xml)?;
                let target = if path.len() == 3 {
                    filter.and.as_deref_mut().ok_or_else(malformed_xml)?
                } else {
                    filter
                };
                match name {
                    "Tag" => {
                        let (Some(key), Some(value)) = (self.tag.0.take(), self.tag.1.take())
                        else {
                            return Err(malformed_xml());
                        };
                        target.tags.push((key, value));
                        Ok(())
                    }
                    "Prefix" => set_once(&mut target.prefix, text),
                    "ObjectSizeGreaterThan" => set_once(&mut target.greater, text),
                    _ => set_once(&mut target.less, text),
                }
            }
            (["Rule", "Expiration"], _) => {
                let expiration = self.expiration.as_mut().ok_or_else(malformed_xml)?;
                let slot = match name {
                    "Days" => &mut expiration.days,
                    "Date" => &mut expiration.date,
                    _ => &mut expiration.delete_marker,
                };
                set_once(slot, text)
            }
            (["Rule", "NoncurrentVersionExpiration"], _) => {
                let noncurrent = self.noncurrent.as_mut().ok_or_else(malformed_xml)?;
                let slot = if name == "NoncurrentDays" {
                    &mut noncurrent.days
                } else {
                    &mut noncurrent.newer
                };
                set_once(slot, text)
            }
            (["Rule", "AbortIncompleteMultipartUpload"], _) => {
                let abort = self.abort.as_mut().ok_or_else(malformed_xml)?;
                set_once(&mut abort.days, text)
            }
            _ => require_blank(&text),
        }
    }

    /// The rule, once its structure is checked (values are checked by `validate`).
    fn finish(self) -> Result<Rule, S3Error> {
        let enabled = match self.status.as_deref().map(str::trim) {
            Some("Enabled") => true,
            Some("Disabled") => false,
            _ => return Err(malformed_xml()),
        };
        let legacy_prefix = self.legacy_prefix.is_some();
        let filter = match (self.legacy_prefix, self.filter) {
            (Some(prefix), None) => Filter {
                prefix,
                ..Filter::default()
            },
            (None, Some(filter)) => filter.finish()?,
            _ => return Err(malformed_xml()),
        };
        let expiration = match self.expiration {
            None => None,
            Some(expiration) => expiration.finish()?,
        };
        let noncurrent_expiration = match self.noncurrent {
            None => None,
            Some(noncurrent) => Some(NoncurrentExpiration {
                noncurrent_days: day_count(noncurrent.days.as_deref().ok_or_else(malformed_xml)?)?,
                newer_noncurrent_versions: noncurrent
                    .newer
                    .as_deref()
                    .map(day_count)
                    .transpose()?,
            }),
        };
        let abort_incomplete_days = match self.abort {
            None => None,
            Some(abort) => Some(day_count(abort.days.as_deref().ok_or_else(malformed_xml)?)?),
        };
        Ok(Rule {
            id: self.id.unwrap_or_default(),
            enabled,
            filter,
            expiration,
            noncurrent_expiration,
            abort_incomplete_days,
            legacy_prefix,
        })
    }
}

impl FilterDraft {
    fn predicates(&self) -> usize {
        usize::from(self.prefix.is_some())
            + self.tags.len()
            + usize::from(self.greater.is_some())
            + usize::from(self.less.is_some())
    }

    fn finish(self) -> Result<Filter, S3Error> {
        if self.predicates() + usize::from(self.and.is_some()) > 1 {
            return Err(malformed_xml());
        }
        let draft = match self.and {
            Some(and) if and.predicates() == 0 => return Err(malformed_xml()),
            Some(and) => *and,
            None => self,
        };
        let size_greater_than = match draft.greater.as_deref().map(integer).transpose()? {
            Some(bound) if bound < 0 => {
                return Err(S3Error::with_message(
                    S3ErrorCode::InvalidArgument,
                    "'ObjectSizeGreaterThan' must be a non-negative integer",
                ));
            }
            bound => bound.and_then(|bound| u64::try_from(bound).ok()),
        };
        // A bound below 1 matches nothing: `validate` refuses it as 0.
        let size_less_than = draft
            .less
            .as_deref()
            .map(integer)
            .transpose()?
            .map(|bound| u64::try_from(bound.max(0)).unwrap_or(0));
        Ok(Filter {
            prefix: draft.prefix.unwrap_or_default(),
            tags: draft.tags,
            size_greater_than,
            size_less_than,
        })
    }
}

impl ExpirationDraft {
    /// `None` for an `Expiration` holding only `ExpiredObjectDeleteMarker` `false`.
    fn finish(self) -> Result<Option<Expiration>, S3Error> {
        let delete_marker = match self.delete_marker.as_deref().map(str::trim) {
            None => None,
            Some(text) if text.eq_ignore_ascii_case("true") => Some(true),
            Some(text) if text.eq_ignore_ascii_case("false") => Some(false),
            Some(_) => return Err(malformed_xml()),
        };
        match (self.days, self.date, delete_marker) {
            (Some(days), None, None | Some(false)) => Ok(Some(Expiration::Days(day_count(&days)?))),
            (None, Some(date), None | Some(false)) => Ok(Some(Expiration::Date(
                parse_lifecycle_date(&date).ok_or_else(malformed_xml)?,
            ))),
            (None, None, Some(true)) => Ok(Some(Expiration::ExpiredObjectDeleteMarker)),
            (None, None, Some(false)) => Ok(None),
            _ => Err(malformed_xml()),
        }
    }
}

/// An XML integer (`MalformedXML` if it is not one).
fn integer(text: &str) -> Result<i64, S3Error> {
    text.trim().parse().map_err(|_| malformed_xml())
}

/// A day count: an integer that fits AWS's `Integer` (else `MalformedXML`); zero and negative
/// values become 0, which `validate` refuses with the action's own message.
fn day_count(text: &str) -> Result<u32, S3Error> {
    let value = integer(text)?;
    if value > i64::from(i32::MAX) {
        return Err(malformed_xml());
    }
    Ok(u32::try_from(value.max(0)).unwrap_or(0))
}

/// A lifecycle `Date`: ISO 8601 with a zone (`2030-01-01T00:00:00Z`, what SDKs send) or a bare
/// date (`2030-01-01`, midnight UTC), in unix ms. Dates before 1970 or after 9999 are refused:
/// GetBucketLifecycleConfiguration could not write them back as they were given (found by
/// fuzzing the round trip).
fn parse_lifecycle_date(text: &str) -> Option<i64> {
    parse_any_lifecycle_date(text).filter(|ms| (0..=UNIX_MS_MAX).contains(ms))
}

fn parse_any_lifecycle_date(text: &str) -> Option<i64> {
    let text = text.trim();
    if let Some(ms) = parse_iso8601_millis(text) {
        return Some(ms);
    }
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u16> {
        let part = text.get(range)?;
        if !part.bytes().all(|byte| byte.is_ascii_digit()) {
            return None;
        }
        part.parse().ok()
    };
    let month = time::Month::try_from(u8::try_from(number(5..7)?).ok()?).ok()?;
    let day = u8::try_from(number(8..10)?).ok()?;
    let year = i32::from(number(0..4)?);
    let date = time::Date::from_calendar_date(year, month, day).ok()?;
    let seconds = date.midnight().assume_utc().unix_timestamp();
    seconds.checked_mul(1000)
}

/// The GetBucketLifecycleConfiguration answer, elements in the order of AWS's examples (ID,
/// Filter, Status, then the actions); the filter is always written in `<Filter>` form.
pub fn lifecycle_configuration_xml(configuration: &LifecycleConfiguration) -> String {
    let mut out = String::with_capacity(160 + 320 * configuration.rules.len());
    out.push_str(XML_DECLARATION);
    out.push_str("<LifecycleConfiguration xmlns=\"");
    out.push_str(S3_XML_NAMESPACE);
    out.push_str("\">");
    for rule in &configuration.rules {
        out.push_str("<Rule>");
        push_element(&mut out, "ID", &rule.id);
        if rule.legacy_prefix {
            push_element(&mut out, "Prefix", &rule.filter.prefix);
        } else {
            push_filter(&mut out, &rule.filter);
        }
        out.push_str(if rule.enabled {
            "<Status>Enabled</Status>"
        } else {
            "<Status>Disabled</Status>"
        });
        match rule.expiration {
            None => {}
            Some(Expiration::Days(days)) => {
                out.push_str("<Expiration>");
                push_display_element(&mut out, "Days", days);
                out.push_str("</Expiration>");
            }
            Some(Expiration::Date(date_ms)) => {
                out.push_str("<Expiration><Date>");
                write_iso8601_millis(&mut out, date_ms);
                out.push_str("</Date></Expiration>");
            }
            Some(Expiration::ExpiredObjectDeleteMarker) => out.push_str(
                "<Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker>\
                 </Expiration>",
            ),
        }
        if let Some(noncurrent) = rule.noncurrent_expiration {
            out.push_str("<NoncurrentVersionExpiration>");
            push_display_element(&mut out, "NoncurrentDays", noncurrent.noncurrent_days);
            if let Some(newer) = noncurrent.newer_noncurrent_versions {
                push_display_element(&mut out, "NewerNoncurrentVersions", newer);
            }
            out.push_str("</NoncurrentVersionExpiration>");
        }
        if let Some(days) = rule.abort_incomplete_days {
            out.push_str("<AbortIncompleteMultipartUpload>");
            push_display_element(&mut out, "DaysAfterInitiation", days);
            out.push_str("</AbortIncompleteMultipartUpload>");
        }
        out.push_str("</Rule>");
    }
    out.push_str("</LifecycleConfiguration>");
    out
}

/// `<Filter>` with its one predicate, or `<And>` when there are several; an empty filter is
/// `<Filter><Prefix></Prefix></Filter>`.
fn push_filter(out: &mut String, filter: &Filter) {
    let predicates = usize::from(!filter.prefix.is_empty())
        + filter.tags.len()
        + usize::from(filter.size_greater_than.is_some())
        + usize::from(filter.size_less_than.is_some());
    out.push_str("<Filter>");
    if predicates > 1 {
        out.push_str("<And>");
    }
    if !filter.prefix.is_empty() || predicates == 0 {
        push_element(out, "Prefix", &filter.prefix);
    }
    for (key, value) in &filter.tags {
        out.push_str("<Tag>");
        push_element(out, "Key", key);
        push_element(out, "Value", value);
        out.push_str("</Tag>");
    }
    if let Some(bound) = filter.size_greater_than {
        push_display_element(out, "ObjectSizeGreaterThan", bound);
    }
    if let Some(bound) = filter.size_less_than {
        push_display_element(out, "ObjectSizeLessThan", bound);
    }
    if predicates > 1 {
        out.push_str("</And>");
    }
    out.push_str("</Filter>");
}

/// The `x-amz-expiration` value: `expiry-date="Fri, 23 Dec 2012 00:00:00 GMT",
/// rule-id="<id>"`. The ID is written as stored, unescaped, as S3 does; parsing refuses IDs
/// with control characters, but the caller must still pass the value through its header check
/// (`http_field::is_field_value`) like every header it writes. An ID holding `"` makes the
/// value ambiguous to a reader, not unsafe.
pub fn expiration_header_value(expiry_ms: i64, rule_id: &str) -> String {
    format!(
        "expiry-date=\"{}\", rule-id=\"{rule_id}\"",
        http_date_from_millis(expiry_ms)
    )
}

#[cfg(test)]
mod tests;
