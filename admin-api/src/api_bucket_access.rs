//! A bucket's CORS rules, bucket policy and tags for the console
//! (`/api/v1/buckets/{bucket}/cors|policy|tagging`), beside `api_bucket_config.rs` and with
//! its rules: the same visibility check, the change applied by the data plane's catalogue
//! (`BucketConfigUpdate::Cors|Policy|Tags`) before the answer. The data plane knows no S3
//! rules, so each configuration is validated here exactly as the S3 port validates it:
//! CORS and tags by `s3_proto::xml`, the policy by `policy::parse_bucket_policy`. A refusal is
//! 400 with S3's code (`InvalidRequest`, `MalformedXML`, `InvalidTag`, `MalformedPolicy`) and
//! its message, and changes nothing.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use control::buckets::{BucketConfig, BucketConfigUpdate, CorsRule, Tag};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::api_bucket_config::{config_of, note, parse, update};
use crate::app::{App, Shared};
use crate::audit_note::AuditNote;
use crate::authz::Actor;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Body};

type Changed = (axum::Extension<AuditNote>, Json<Value>);

/// Largest bucket policy AWS accepts, bytes (as the S3 port's PutBucketPolicy).
const POLICY_BYTES_MAX: usize = 20 * 1024;

fn refused(error: &s3_proto::error::S3Error) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        error.code.as_str(),
        error.message_or_default().to_owned(),
    )
}

/// Checks that the bucket is the actor's to see, then changes it.
async fn change(
    app: &App,
    actor: &Actor,
    name: &str,
    change: BucketConfigUpdate,
) -> ApiResult<BucketConfig> {
    config_of(app, actor, name).await?;
    update(app, actor, name, change).await
}

// ---- CORS ----

/// One rule in the console's JSON (S3's element names in camelCase).
#[derive(Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct CorsRuleJson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    id: Option<String>,
    allowed_origins: Vec<String>,
    allowed_methods: Vec<String>,
    #[serde(default)]
    allowed_headers: Vec<String>,
    #[serde(default)]
    expose_headers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    max_age_seconds: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CorsBody {
    rules: Vec<CorsRuleJson>,
}

pub(crate) fn cors_from_body(body: Value) -> ApiResult<Vec<CorsRule>> {
    let rules: Vec<CorsRule> = parse::<CorsBody>("CORS configuration", body)?
        .rules
        .into_iter()
        .map(|rule| CorsRule {
            id: rule.id.filter(|id| !id.is_empty()),
            allowed_methods: rule.allowed_methods,
            allowed_origins: rule.allowed_origins,
            allowed_headers: rule.allowed_headers,
            expose_headers: rule.expose_headers,
            max_age_seconds: rule.max_age_seconds,
        })
        .collect();
    // Said in the console's words; s3-proto would call these MalformedXML.
    for (index, rule) in rules.iter().enumerate() {
        if rule.allowed_origins.iter().all(String::is_empty) || rule.allowed_methods.is_empty() {
            return Err(ApiError::bad_request(format!(
                "rule {}: name at least one origin and one method",
                index + 1
            )));
        }
    }
    let checked: Vec<s3_proto::xml::CorsRule> = rules
        .iter()
        .map(|rule| s3_proto::xml::CorsRule {
            id: rule.id.clone(),
            allowed_methods: rule.allowed_methods.clone(),
            allowed_origins: rule.allowed_origins.clone(),
            allowed_headers: rule.allowed_headers.clone(),
            expose_headers: rule.expose_headers.clone(),
            max_age_seconds: rule.max_age_seconds,
        })
        .collect();
    s3_proto::xml::validate_cors_rules(&checked).map_err(|error| refused(&error))?;
    Ok(rules)
}

fn cors_json(config: &BucketConfig) -> Value {
    let rules: Vec<CorsRuleJson> = config
        .cors
        .iter()
        .map(|rule| CorsRuleJson {
            id: rule.id.clone(),
            allowed_origins: rule.allowed_origins.clone(),
            allowed_methods: rule.allowed_methods.clone(),
            allowed_headers: rule.allowed_headers.clone(),
            expose_headers: rule.expose_headers.clone(),
            max_age_seconds: rule.max_age_seconds,
        })
        .collect();
    json!({"rules": rules})
}

pub async fn get_cors(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(cors_json(&config_of(&app, &actor, &name).await?)))
}

pub async fn put_cors(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Changed> {
    let rules = cors_from_body(body)?;
    let count = rules.len();
    let config = change(&app, &actor, &name, BucketConfigUpdate::Cors { rules }).await?;
    Ok((
        note(&name, &json!({"cors_rules": count})),
        Json(cors_json(&config)),
    ))
}

pub async fn delete_cors(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
) -> ApiResult<Changed> {
    let update = BucketConfigUpdate::Cors { rules: Vec::new() };
    let config = change(&app, &actor, &name, update).await?;
    Ok((
        note(&name, &json!({"cors_rules": 0})),
        Json(cors_json(&config)),
    ))
}

// ---- bucket policy ----

/// The policy of a body, `{"policy": "<JSON text>"}` or `{"policy": {...}}`, validated for
/// `bucket` (400 `MalformedPolicy` with the parser's message, as PutBucketPolicy answers).
pub(crate) fn policy_from_body(body: &Value, bucket: &str) -> ApiResult<String> {
    let text = match body.get("policy") {
        Some(Value::String(text)) => text.clone(),
        Some(object @ Value::Object(_)) => object.to_string(),
        _ => {
            return Err(ApiError::bad_request(
                "send {\"policy\": a policy document or its JSON text}",
            ));
        }
    };
    let malformed =
        |message: String| ApiError::new(StatusCode::BAD_REQUEST, "MalformedPolicy", message);
    if text.len() > POLICY_BYTES_MAX {
        return Err(malformed(
            "Policy exceeds the maximum allowed document size.".into(),
        ));
    }
    policy::parse_bucket_policy(&text, bucket).map_err(|error| malformed(error.to_string()))?;
    Ok(text)
}

fn policy_json(config: &BucketConfig) -> Value {
    json!({"policy": config.policy})
}

pub async fn get_policy(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(policy_json(&config_of(&app, &actor, &name).await?)))
}

pub async fn put_policy(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Changed> {
    let policy = Some(policy_from_body(&body, &name)?);
    let config = change(&app, &actor, &name, BucketConfigUpdate::Policy { policy }).await?;
    Ok((
        note(&name, &json!({"policy": "set"})),
        Json(policy_json(&config)),
    ))
}

pub async fn delete_policy(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
) -> ApiResult<Changed> {
    let update = BucketConfigUpdate::Policy { policy: None };
    let config = change(&app, &actor, &name, update).await?;
    Ok((
        note(&name, &json!({"policy": "deleted"})),
        Json(policy_json(&config)),
    ))
}

// ---- tags ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TagsBody {
    tags: Vec<Tag>,
}

pub(crate) fn tags_from_body(body: Value) -> ApiResult<Vec<Tag>> {
    let tags = parse::<TagsBody>("tags", body)?.tags;
    let pairs: Vec<(String, String)> = tags
        .iter()
        .map(|tag| (tag.key.clone(), tag.value.clone()))
        .collect();
    s3_proto::xml::validate_tags(&pairs, s3_proto::xml::TagTarget::Bucket)
        .map_err(|error| refused(&error))?;
    Ok(tags)
}

fn tags_json(config: &BucketConfig) -> Value {
    json!({"tags": config.tags})
}

pub async fn get_tagging(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    Ok(Json(tags_json(&config_of(&app, &actor, &name).await?)))
}

pub async fn put_tagging(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
    Body(body): Body<Value>,
) -> ApiResult<Changed> {
    let tags = tags_from_body(body)?;
    let count = tags.len();
    let config = change(&app, &actor, &name, BucketConfigUpdate::Tags { tags }).await?;
    Ok((
        note(&name, &json!({"tags": count})),
        Json(tags_json(&config)),
    ))
}

pub async fn delete_tagging(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(name): Path<String>,
) -> ApiResult<Changed> {
    let update = BucketConfigUpdate::Tags { tags: Vec::new() };
    let config = change(&app, &actor, &name, update).await?;
    Ok((note(&name, &json!({"tags": 0})), Json(tags_json(&config))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cors_rules_are_checked_as_the_s3_port_checks_them() {
        let rule = |origin: &str, method: &str| {
            let rule = json!({"allowedOrigins": [origin], "allowedMethods": [method]});
            json!({ "rules": [rule] })
        };
        let rules = cors_from_body(rule("https://*.example.com", "PUT")).expect("valid");
        assert_eq!(rules[0].allowed_origins, ["https://*.example.com"]);
        let error = cors_from_body(rule("https://*.*.example.com", "PUT")).unwrap_err();
        assert_eq!(error.code, "InvalidRequest");
        assert!(
            error.message.contains("more than one wildcard"),
            "{error:?}"
        );
        let error = cors_from_body(rule("https://example.com", "PATCH")).unwrap_err();
        assert!(
            error.message.contains("Unsupported method is PATCH"),
            "{error:?}"
        );
        assert!(cors_from_body(rule("", "GET")).is_err());
        assert!(cors_from_body(json!({"rules": []})).is_err());
    }

    #[test]
    fn tags_and_policies_are_checked_as_the_s3_port_checks_them() {
        let tags = |key: &str| json!({"tags": [{"key": key, "value": "v"}]});
        assert_eq!(tags_from_body(tags("team")).expect("valid")[0].key, "team");
        let error = tags_from_body(tags("aws:reserved")).unwrap_err();
        assert_eq!(error.code, "InvalidTag");
        assert!(error.message.contains("aws:"), "{error:?}");
        let document = json!({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::photos/*"}]});
        let text = policy_from_body(&json!({"policy": document}), "photos").expect("valid");
        assert!(text.contains("s3:GetObject"));
        // A resource of another bucket is refused, as PutBucketPolicy refuses it.
        let error = policy_from_body(&json!({"policy": document}), "other").unwrap_err();
        assert_eq!(error.code, "MalformedPolicy", "{error:?}");
    }
}
