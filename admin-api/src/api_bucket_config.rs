//! A bucket's versioning, Object Lock and lifecycle, and its versions, for the console
//! (`/api/v1/buckets/{bucket}/versioning|object-lock|lifecycle|versions`). The JSON here
//! mirrors S3's fields in camelCase; the data plane validates a change with the rules of the
//! S3 port and applies it through its catalogue (`control::wire::Request::UpdateBucketConfig`),
//! so a change is in force on the S3 port when the console answers. Who may: whoever may see
//! the bucket (`Actor::can_access_bucket`), as for the bucket's other routes.
//!
//! Errors: a malformed body or a configuration S3 would refuse is 400 `InvalidRequest` with
//! the reason, and changes nothing; a change the bucket's state forbids (suspending versioning
//! under Object Lock, Object Lock without versioning, turning Object Lock off) is 409
//! `InvalidBucketState`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use control::buckets::{
    BucketConfig, BucketConfigUpdate, DefaultRetention, Expiration, Lifecycle, LifecycleFilter,
    LifecycleRule, MAX_VERSIONS_PER_PAGE, NoncurrentExpiration, ObjectLock, RetentionMode,
    RetentionPeriod, Tag, VersioningStatus, VersionsPage, VersionsQuery,
};
use control::wire::{Request, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api_buckets::call;
use crate::app::{App, Shared, rfc3339};
use crate::audit_note::AuditNote;
use crate::authz::Actor;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Body};

type Changed = (axum::Extension<AuditNote>, Json<Value>);

/// The bucket's configuration, if the actor may see the bucket (404, then 403, as for
/// `GET /buckets/{bucket}`).
pub(crate) async fn config_of(app: &App, actor: &Actor, name: &str) -> ApiResult<BucketConfig> {
    let config = match call(
        app,
        Request::GetBucketConfig {
            name: name.to_owned(),
        },
    )
    .await?
    {
        Response::BucketConfig(config) => *config,
        other => {
            return Err(ApiError::internal(&format!(
                "GetBucketConfig answered {other:?}"
            )));
        }
    };
    if !actor.can_access_bucket(config.tenant_id.as_deref()) {
        return Err(ApiError::forbidden());
    }
    Ok(config)
}

pub(crate) async fn update(
    app: &App,
    actor: &Actor,
    name: &str,
    update: BucketConfigUpdate,
) -> ApiResult<BucketConfig> {
    let request = Request::UpdateBucketConfig {
        name: name.to_owned(),
        update,
        tenant_id: actor.tenant_id.clone(),
        user_id: (!actor.is_root).then(|| actor.user_id.clone()),
    };
    match call(app, request).await? {
        Response::BucketConfig(config) => Ok(*config),
        other => Err(ApiError::internal(&format!(
            "UpdateBucketConfig answered {other:?}"
        ))),
    }
}

pub(crate) fn note(name: &str, details: &Value) -> axum::Extension<AuditNote> {
    axum::Extension(AuditNote {
        resource_type: Some("bucket"),
        resource: Some(name.chars().take(256).collect()),
        details: Some(details.to_string()),
        ..AuditNote::default()
    })
}

/// A body as `T`, every error a 400 naming what is wrong (unknown fields included).
pub(crate) fn parse<T: serde::de::DeserializeOwned>(what: &str, body: Value) -> ApiResult<T> {
    serde_json::from_value(body)
        .map_err(|error| ApiError::bad_request(format!("invalid {what}: {error}")))
}

// ---- versioning ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VersioningBody {
    status: Option<VersioningStatus>,
}

pub(crate) fn versioning_from_body(body: Value) -> ApiResult<VersioningStatus> {
    parse::<VersioningBody>("versioning", body)?
        .status
        .ok_or_else(|| ApiError::bad_request("status must be \"Enabled\" or \"Suspended\""))
}

fn versioning_json(config: &BucketConfig) -> Value {
    json!({"status": config.versioning.map(VersioningStatus::as_str)})
}

pub async fn get_versioning(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let config = config_of(&app, &actor, &name).await?;
    Ok(Json(versioning_json(&config)))
}

pub async fn put_versioning(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Changed> {
    let status = versioning_from_body(body)?;
    config_of(&app, &actor, &name).await?;
    let config = update(
        &app,
        &actor,
        &name,
        BucketConfigUpdate::Versioning { status },
    )
    .await?;
    let answer = versioning_json(&config);
    Ok((note(&name, &answer), Json(answer)))
}

// ---- object lock ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ObjectLockBody {
    enabled: bool,
    #[serde(default)]
    mode: Option<RetentionMode>,
    #[serde(default)]
    days: Option<u32>,
    #[serde(default)]
    years: Option<u32>,
}

/// `{"enabled": true, "mode": "GOVERNANCE"|"COMPLIANCE"|null, "days"|"years": n}`: the
/// configuration to apply, `None` for `enabled: false` (which has nothing to apply).
pub(crate) fn object_lock_from_body(body: Value) -> ApiResult<Option<ObjectLock>> {
    let body: ObjectLockBody = parse("object lock configuration", body)?;
    let period = match (body.days, body.years) {
        (Some(days), None) => Some(RetentionPeriod::Days(days)),
        (None, Some(years)) => Some(RetentionPeriod::Years(years)),
        (None, None) => None,
        (Some(_), Some(_)) => {
            return Err(ApiError::bad_request(
                "a default retention has days or years, not both",
            ));
        }
    };
    if !body.enabled {
        if body.mode.is_some() || period.is_some() {
            return Err(ApiError::bad_request(
                "a default retention needs enabled: true",
            ));
        }
        return Ok(None);
    }
    let default_retention = match (body.mode, period) {
        (Some(mode), Some(period)) => Some(DefaultRetention { mode, period }),
        (None, None) => None,
        (Some(_), None) => {
            return Err(ApiError::bad_request(
                "a default retention mode needs days or years",
            ));
        }
        (None, Some(_)) => {
            return Err(ApiError::bad_request(
                "a default retention period needs a mode (GOVERNANCE or COMPLIANCE)",
            ));
        }
    };
    Ok(Some(ObjectLock { default_retention }))
}

fn object_lock_json(config: &BucketConfig) -> Value {
    let rule = config.object_lock.and_then(|lock| lock.default_retention);
    let (days, years) = match rule.map(|rule| rule.period) {
        Some(RetentionPeriod::Days(days)) => (Some(days), None),
        Some(RetentionPeriod::Years(years)) => (None, Some(years)),
        None => (None, None),
    };
    json!({
        "enabled": config.object_lock.is_some(),
        "mode": rule.map(|rule| rule.mode.as_str()),
        "days": days,
        "years": years,
    })
}

pub async fn get_object_lock(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let config = config_of(&app, &actor, &name).await?;
    Ok(Json(object_lock_json(&config)))
}

pub async fn put_object_lock(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Changed> {
    let object_lock = object_lock_from_body(body)?;
    let current = config_of(&app, &actor, &name).await?;
    let config = match object_lock {
        Some(object_lock) => {
            update(
                &app,
                &actor,
                &name,
                BucketConfigUpdate::ObjectLock { object_lock },
            )
            .await?
        }
        None if current.object_lock.is_some() => {
            return Err(ApiError::conflict(
                "InvalidBucketState",
                "Object Lock cannot be turned off once it is enabled on a bucket",
            ));
        }
        None => current,
    };
    let answer = object_lock_json(&config);
    Ok((note(&name, &answer), Json(answer)))
}

// ---- lifecycle ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LifecycleBody {
    rules: Vec<RuleBody>,
}

#[derive(Deserialize, Clone, Copy, PartialEq, Eq)]
enum RuleStatus {
    Enabled,
    Disabled,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RuleBody {
    #[serde(default)]
    id: Option<String>,
    status: RuleStatus,
    #[serde(default)]
    filter: Option<FilterBody>,
    #[serde(default)]
    expiration: Option<ExpirationBody>,
    #[serde(default)]
    noncurrent_version_expiration: Option<NoncurrentBody>,
    #[serde(default)]
    abort_incomplete_multipart_upload: Option<AbortBody>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct FilterBody {
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    tags: Vec<TagBody>,
    #[serde(default)]
    object_size_greater_than: Option<u64>,
    #[serde(default)]
    object_size_less_than: Option<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TagBody {
    key: String,
    value: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ExpirationBody {
    #[serde(default)]
    days: Option<u32>,
    #[serde(default)]
    date: Option<String>,
    #[serde(default)]
    expired_object_delete_marker: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NoncurrentBody {
    noncurrent_days: u32,
    #[serde(default)]
    newer_noncurrent_versions: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AbortBody {
    days_after_initiation: u32,
}

/// Tag limits of S3 (characters): a key of 1 to 128, a value of at most 256.
const TAG_KEY_CHARS_MAX: usize = 128;
const TAG_VALUE_CHARS_MAX: usize = 256;

/// Transitions move objects to storage classes this server does not have: refused by name,
/// so that the client hears why rather than "unknown field".
const TRANSITION_FIELDS: &[&str] = &[
    "transition",
    "transitions",
    "noncurrentVersionTransition",
    "noncurrentVersionTransitions",
];

/// `{"rules": [...]}` as the wire's lifecycle. Shape errors are found here; the rules
/// themselves (IDs, day counts, at most 1,000 rules...) are checked by the data plane.
pub(crate) fn lifecycle_from_body(body: Value) -> ApiResult<Lifecycle> {
    if let Some(rules) = body.get("rules").and_then(Value::as_array) {
        for rule in rules {
            if let Some(field) = TRANSITION_FIELDS
                .iter()
                .find(|field| rule.get(**field).is_some())
            {
                return Err(ApiError::bad_request(format!(
                    "{field}: transitions are not supported (this server has one storage \
                     class); remove them from the rule"
                )));
            }
        }
    }
    let body: LifecycleBody = parse("lifecycle configuration", body)?;
    let rules = body
        .rules
        .into_iter()
        .map(rule_from_body)
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Lifecycle { rules })
}

fn rule_from_body(rule: RuleBody) -> ApiResult<LifecycleRule> {
    let filter = rule
        .filter
        .map_or_else(LifecycleFilter::default, |filter| LifecycleFilter {
            prefix: filter.prefix,
            tags: filter
                .tags
                .into_iter()
                .map(|tag| Tag {
                    key: tag.key,
                    value: tag.value,
                })
                .collect(),
            size_greater_than: filter.object_size_greater_than,
            size_less_than: filter.object_size_less_than,
        });
    for tag in &filter.tags {
        let key_chars = tag.key.chars().count();
        if key_chars == 0 || key_chars > TAG_KEY_CHARS_MAX {
            return Err(ApiError::bad_request(format!(
                "a tag key has 1 to {TAG_KEY_CHARS_MAX} characters"
            )));
        }
        if tag.value.chars().count() > TAG_VALUE_CHARS_MAX {
            return Err(ApiError::bad_request(format!(
                "a tag value has at most {TAG_VALUE_CHARS_MAX} characters"
            )));
        }
    }
    Ok(LifecycleRule {
        id: rule.id.unwrap_or_default(),
        enabled: rule.status == RuleStatus::Enabled,
        filter,
        expiration: rule.expiration.map(expiration_from_body).transpose()?,
        noncurrent_expiration: rule.noncurrent_version_expiration.map(|noncurrent| {
            NoncurrentExpiration {
                noncurrent_days: noncurrent.noncurrent_days,
                newer_noncurrent_versions: noncurrent.newer_noncurrent_versions,
            }
        }),
        abort_incomplete_days: rule
            .abort_incomplete_multipart_upload
            .map(|abort| abort.days_after_initiation),
    })
}

fn expiration_from_body(expiration: ExpirationBody) -> ApiResult<Expiration> {
    match (
        expiration.days,
        expiration.date,
        expiration.expired_object_delete_marker,
    ) {
        (Some(days), None, None) => Ok(Expiration::Days(days)),
        (None, Some(date), None) => parse_date(&date).map(Expiration::DateUnixMs),
        (None, None, Some(true)) => Ok(Expiration::ExpiredObjectDeleteMarker),
        _ => Err(ApiError::bad_request(
            "expiration has exactly one of days, date or expiredObjectDeleteMarker: true",
        )),
    }
}

/// An expiration date: RFC 3339 (`2030-01-01T00:00:00Z`) or a day (`2030-01-01`, midnight
/// UTC), as Unix milliseconds. That it is a midnight UTC is checked with the rules.
fn parse_date(text: &str) -> ApiResult<i64> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(moment) = time::OffsetDateTime::parse(text, &Rfc3339) {
        return i64::try_from(moment.unix_timestamp_nanos() / 1_000_000)
            .map_err(|_| ApiError::bad_request("expiration date out of range"));
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(text, format)
        .map(|date| date.midnight().assume_utc().unix_timestamp() * 1000)
        .map_err(|_| {
            ApiError::bad_request(format!(
                "expiration date {text:?}: use RFC 3339 or YYYY-MM-DD"
            ))
        })
}

fn rule_json(rule: &LifecycleRule) -> Value {
    let expiration = rule.expiration.map(|expiration| match expiration {
        Expiration::Days(days) => json!({"days": days}),
        Expiration::DateUnixMs(ms) => json!({"date": rfc3339(ms.div_euclid(1000))}),
        Expiration::ExpiredObjectDeleteMarker => json!({"expiredObjectDeleteMarker": true}),
    });
    let tags: Vec<Value> = rule
        .filter
        .tags
        .iter()
        .map(|tag| json!({"key": tag.key, "value": tag.value}))
        .collect();
    json!({
        "id": rule.id,
        "status": if rule.enabled { "Enabled" } else { "Disabled" },
        "filter": {
            "prefix": rule.filter.prefix,
            "tags": tags,
            "objectSizeGreaterThan": rule.filter.size_greater_than,
            "objectSizeLessThan": rule.filter.size_less_than,
        },
        "expiration": expiration,
        "noncurrentVersionExpiration": rule.noncurrent_expiration.map(|noncurrent| json!({
            "noncurrentDays": noncurrent.noncurrent_days,
            "newerNoncurrentVersions": noncurrent.newer_noncurrent_versions,
        })),
        "abortIncompleteMultipartUpload": rule.abort_incomplete_days.map(|days| json!({
            "daysAfterInitiation": days,
        })),
    })
}

fn lifecycle_json(config: &BucketConfig) -> Value {
    let rules: Vec<Value> = config
        .lifecycle
        .iter()
        .flat_map(|lifecycle| lifecycle.rules.iter().map(rule_json))
        .collect();
    json!({"rules": rules})
}

pub async fn get_lifecycle(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let config = config_of(&app, &actor, &name).await?;
    Ok(Json(lifecycle_json(&config)))
}

pub async fn put_lifecycle(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Changed> {
    let lifecycle = lifecycle_from_body(body)?;
    config_of(&app, &actor, &name).await?;
    let config = update(
        &app,
        &actor,
        &name,
        BucketConfigUpdate::Lifecycle {
            lifecycle: Some(lifecycle),
        },
    )
    .await?;
    let answer = lifecycle_json(&config);
    let rules = answer["rules"].as_array().map_or(0, Vec::len);
    Ok((note(&name, &json!({"rules": rules})), Json(answer)))
}

pub async fn delete_lifecycle(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
) -> ApiResult<Changed> {
    config_of(&app, &actor, &name).await?;
    let config = update(
        &app,
        &actor,
        &name,
        BucketConfigUpdate::Lifecycle { lifecycle: None },
    )
    .await?;
    Ok((
        note(&name, &json!({"rules": 0})),
        Json(lifecycle_json(&config)),
    ))
}

// ---- versions ----

/// `?prefix=&keyMarker=&versionIdMarker=&maxKeys=` (1 to 1000, default 1000).
fn versions_query(name: &str, query: &BTreeMap<String, String>) -> ApiResult<VersionsQuery> {
    if let Some(unknown) = query
        .keys()
        .find(|key| !["prefix", "keyMarker", "versionIdMarker", "maxKeys"].contains(&key.as_str()))
    {
        return Err(ApiError::bad_request(format!(
            "unknown parameter {unknown:?}: use prefix, keyMarker, versionIdMarker, maxKeys"
        )));
    }
    let max_keys = match query.get("maxKeys") {
        None => MAX_VERSIONS_PER_PAGE,
        Some(text) => text
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=MAX_VERSIONS_PER_PAGE).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!(
                    "maxKeys is a whole number from 1 to {MAX_VERSIONS_PER_PAGE}"
                ))
            })?,
    };
    let text = |name: &str| query.get(name).cloned().unwrap_or_default();
    let result = VersionsQuery {
        bucket: name.to_owned(),
        prefix: text("prefix"),
        key_marker: text("keyMarker"),
        version_id_marker: text("versionIdMarker"),
        max_keys,
    };
    if result.key_marker.is_empty() && !result.version_id_marker.is_empty() {
        return Err(ApiError::bad_request("versionIdMarker needs a keyMarker"));
    }
    Ok(result)
}

fn versions_json(query: &VersionsQuery, page: &VersionsPage) -> Value {
    let versions: Vec<Value> = page
        .versions
        .iter()
        .map(|version| {
            json!({
                "key": version.key,
                "versionId": version.version_id,
                "isLatest": version.is_latest,
                "isDeleteMarker": version.delete_marker,
                "size": version.size,
                "etag": version.etag,
                "lastModified": rfc3339(version.last_modified_unix_ms.div_euclid(1000)),
            })
        })
        .collect();
    json!({
        "bucket": query.bucket,
        "prefix": query.prefix,
        "keyMarker": query.key_marker,
        "versionIdMarker": query.version_id_marker,
        "maxKeys": query.max_keys,
        "versions": versions,
        "isTruncated": page.is_truncated,
        "nextKeyMarker": page.next_key_marker,
        "nextVersionIdMarker": page.next_version_id_marker,
    })
}

pub async fn list_versions(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
    Query(query): Query<BTreeMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let query = versions_query(&name, &query)?;
    config_of(&app, &actor, &name).await?;
    match call(&app, Request::ListVersions(query.clone())).await? {
        Response::Versions(page) => Ok(Json(versions_json(&query, &page))),
        other => Err(ApiError::internal(&format!(
            "ListVersions answered {other:?}"
        ))),
    }
}

/// What `POST /buckets` accepts beyond the name: `versioning` ({"status"}) and `objectLock`
/// ({"enabled", "mode", "days"|"years"}) in the shapes of their routes. Object Lock turns
/// versioning on (it needs it, as on S3); asking for both Object Lock and Suspended is a 400.
pub(crate) fn creation_options(
    body: &Value,
) -> ApiResult<(Option<VersioningStatus>, Option<ObjectLock>)> {
    let mut versioning = match body.get("versioning") {
        None | Some(Value::Null) => None,
        Some(value) => Some(versioning_from_body(value.clone())?),
    };
    let object_lock = match body.get("objectLock") {
        None | Some(Value::Null) => None,
        Some(value) => object_lock_from_body(value.clone())?,
    };
    if object_lock.is_some() {
        if versioning == Some(VersioningStatus::Suspended) {
            return Err(ApiError::bad_request(
                "Object Lock needs versioning Enabled, not Suspended",
            ));
        }
        versioning = Some(VersioningStatus::Enabled);
    }
    Ok((versioning, object_lock))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(error: ApiError) -> (u16, String) {
        (error.status.as_u16(), error.message)
    }

    #[test]
    fn object_lock_bodies() {
        let lock = object_lock_from_body(json!({"enabled": true, "mode": "GOVERNANCE", "days": 3}))
            .unwrap()
            .unwrap();
        assert_eq!(
            lock.default_retention,
            Some(DefaultRetention {
                mode: RetentionMode::Governance,
                period: RetentionPeriod::Days(3)
            })
        );
        assert_eq!(
            object_lock_from_body(json!({"enabled": true})).unwrap(),
            Some(ObjectLock::default())
        );
        assert_eq!(
            object_lock_from_body(json!({"enabled": false})).unwrap(),
            None
        );
        for bad in [
            json!({"enabled": true, "mode": "governance", "days": 3}),
            json!({"enabled": true, "mode": "GOVERNANCE"}),
            json!({"enabled": true, "days": 3}),
            json!({"enabled": true, "mode": "COMPLIANCE", "days": 3, "years": 1}),
            json!({"enabled": false, "mode": "COMPLIANCE", "days": 3}),
            json!({"enabled": true, "mode": "COMPLIANCE", "days": -1}),
            json!({"mode": "COMPLIANCE", "days": 1}),
            json!({"enabled": true, "extra": 1}),
        ] {
            let (code, _) = status(object_lock_from_body(bad.clone()).unwrap_err());
            assert_eq!(code, 400, "{bad}");
        }
    }

    #[test]
    fn lifecycle_bodies() {
        let lifecycle = lifecycle_from_body(json!({"rules": [{
            "id": "logs",
            "status": "Enabled",
            "filter": {"prefix": "logs/", "tags": [{"key": "k", "value": "v"}],
                       "objectSizeGreaterThan": 10},
            "expiration": {"date": "2030-01-01"},
            "noncurrentVersionExpiration": {"noncurrentDays": 7, "newerNoncurrentVersions": 2},
        }, {
            "status": "Disabled",
            "abortIncompleteMultipartUpload": {"daysAfterInitiation": 1},
            "expiration": {"expiredObjectDeleteMarker": true},
        }]}))
        .unwrap();
        let first = &lifecycle.rules[0];
        assert_eq!(first.id, "logs");
        assert_eq!(
            first.expiration,
            Some(Expiration::DateUnixMs(1_893_456_000_000))
        );
        assert_eq!(first.filter.size_greater_than, Some(10));
        assert!(!lifecycle.rules[1].enabled && lifecycle.rules[1].id.is_empty());
        assert_eq!(lifecycle.rules[1].abort_incomplete_days, Some(1));
        let back = rule_json(first);
        assert_eq!(back["expiration"]["date"], "2030-01-01T00:00:00Z");
        assert_eq!(
            back["noncurrentVersionExpiration"]["newerNoncurrentVersions"],
            2
        );
        for (bad, says) in [
            (
                json!({"rules": [{"status": "enabled", "expiration": {"days": 1}}]}),
                "variant",
            ),
            (
                json!({"rules": [{"status": "Enabled",
                                  "expiration": {"days": 1, "date": "2030-01-01"}}]}),
                "exactly one",
            ),
            (
                json!({"rules": [{"status": "Enabled",
                                  "expiration": {"expiredObjectDeleteMarker": false}}]}),
                "exactly one",
            ),
            (
                json!({"rules": [{"status": "Enabled", "expiration": {"date": "tomorrow"}}]}),
                "RFC 3339",
            ),
            (
                json!({"rules": [{"status": "Enabled", "transitions": [{"days": 1}]}]}),
                "transitions",
            ),
            (
                json!({"rules": [{"status": "Enabled", "expiration": {"days": 1}, "extra": 1}]}),
                "unknown field",
            ),
            (
                json!({"rules": [{"status": "Enabled",
                                  "filter": {"tags": [{"key": "", "value": "v"}]},
                                  "expiration": {"days": 1}}]}),
                "tag key",
            ),
            (json!({"rule": []}), "unknown field"),
        ] {
            let (code, message) = status(lifecycle_from_body(bad.clone()).unwrap_err());
            assert_eq!(code, 400, "{bad}");
            assert!(message.contains(says), "{bad}: {message}");
        }
    }

    #[test]
    fn versions_queries_and_creation_options() {
        let mut query = BTreeMap::new();
        assert_eq!(versions_query("b", &query).unwrap().max_keys, 1000);
        query.insert("maxKeys".to_owned(), "0".to_owned());
        assert!(versions_query("b", &query).is_err());
        query.insert("maxKeys".to_owned(), "1001".to_owned());
        assert!(versions_query("b", &query).is_err());
        query.insert("maxKeys".to_owned(), "2".to_owned());
        query.insert("versionIdMarker".to_owned(), "null".to_owned());
        assert!(
            versions_query("b", &query).is_err(),
            "a version marker needs a key marker"
        );
        query.insert("keyMarker".to_owned(), "a".to_owned());
        assert_eq!(versions_query("b", &query).unwrap().max_keys, 2);
        query.insert("delimiter".to_owned(), "/".to_owned());
        assert!(versions_query("b", &query).is_err());

        let (versioning, lock) = creation_options(&json!({
            "name": "b", "objectLock": {"enabled": true, "mode": "COMPLIANCE", "years": 1}
        }))
        .unwrap();
        assert_eq!(versioning, Some(VersioningStatus::Enabled));
        assert!(lock.is_some());
        assert!(
            creation_options(&json!({"versioning": {"status": "Suspended"},
                                     "objectLock": {"enabled": true}}))
            .is_err()
        );
        assert_eq!(
            creation_options(&json!({"versioning": {"status": "Suspended"}})).unwrap(),
            (Some(VersioningStatus::Suspended), None)
        );
        assert!(creation_options(&json!({"versioning": "Enabled"})).is_err());
    }
}
