//! The audit log over HTTP: filtered, paged listing (newest first), one entry, and exports
//! (CSV or JSON) streamed in pages, so an export of 100,000 entries never sits in memory.
//! Scope: global admins everything, tenant admins their tenant, users their own entries.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::app::App;
use crate::app::Shared;
use crate::authz::{Actor, AuditScope};
use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;
use crate::store::{AuditEntry, AuditFilter, MAX_EXPORT_ROWS, MAX_PAGE_SIZE};

const DEFAULT_PAGE_SIZE: u32 = 50;

#[derive(Deserialize, Default)]
pub struct AuditQuery {
    tenant_id: Option<String>,
    user_id: Option<String>,
    event_type: Option<String>,
    action: Option<String>,
    resource: Option<String>,
    resource_type: Option<String>,
    status: Option<String>,
    source: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
    page: Option<u32>,
    page_size: Option<u32>,
    format: Option<String>,
}

/// RFC 3339, a date (`2026-01-31`, midnight UTC) or Unix seconds, as Unix milliseconds.
fn parse_time(text: &str, end_of_day: bool) -> ApiResult<i64> {
    use time::format_description::well_known::Rfc3339;
    if let Ok(seconds) = text.parse::<i64>() {
        return Ok(seconds.saturating_mul(1000));
    }
    if let Ok(moment) = time::OffsetDateTime::parse(text, &Rfc3339) {
        return i64::try_from(moment.unix_timestamp_nanos() / 1_000_000)
            .map_err(|_| ApiError::bad_request("date out of range"));
    }
    let format = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(date) = time::Date::parse(text, format) {
        let start = date.midnight().assume_utc().unix_timestamp() * 1000;
        return Ok(if end_of_day {
            start + 86_400_000 - 1
        } else {
            start
        });
    }
    Err(ApiError::bad_request(format!(
        "{text:?}: use RFC 3339, YYYY-MM-DD or Unix seconds"
    )))
}

pub(crate) fn filter_of(actor: &Actor, query: &AuditQuery) -> ApiResult<AuditFilter> {
    let mut filter = AuditFilter {
        tenant_id: query.tenant_id.clone(),
        user_id: query.user_id.clone(),
        // MaxIOFS's `action` filter and our `event_type` both name the event.
        event_type: query.event_type.clone(),
        action: query.action.clone(),
        resource: query.resource.clone(),
        resource_type: query.resource_type.clone(),
        status: query.status.clone(),
        source: query.source.clone(),
        start_ms: query
            .start_date
            .as_deref()
            .map(|text| parse_time(text, false))
            .transpose()?,
        end_ms: query
            .end_date
            .as_deref()
            .map(|text| parse_time(text, true))
            .transpose()?,
    };
    // `action` given as an event name (login_failed...) rather than "POST /path".
    if let Some(action) = &filter.action
        && !action.contains(' ')
        && filter.event_type.is_none()
    {
        filter.event_type = filter.action.take();
    }
    match actor.audit_scope() {
        AuditScope::All => {}
        AuditScope::Tenant(tenant) => {
            if filter
                .tenant_id
                .as_deref()
                .is_some_and(|asked| asked != tenant)
            {
                return Err(ApiError::forbidden());
            }
            filter.tenant_id = Some(tenant.to_owned());
        }
        AuditScope::User(user) => {
            if filter.user_id.as_deref().is_some_and(|asked| asked != user) {
                return Err(ApiError::forbidden());
            }
            filter.user_id = Some(user.to_owned());
        }
    }
    Ok(filter)
}

fn entry_json(entry: &AuditEntry) -> Value {
    let mut value = serde_json::to_value(entry).unwrap_or(Value::Null);
    value["timestamp"] = Value::String(
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(entry.timestamp_ms) * 1_000_000)
            .ok()
            .and_then(|moment| {
                moment
                    .format(&time::format_description::well_known::Rfc3339)
                    .ok()
            })
            .unwrap_or_default(),
    );
    if let Some(details) = entry.details.as_deref()
        && let Ok(parsed) = serde_json::from_str::<Value>(details)
    {
        value["details"] = parsed;
    }
    value
}

pub async fn list(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Query(query): Query<AuditQuery>,
) -> ApiResult<Json<Value>> {
    let filter = filter_of(&actor, &query)?;
    let page = query.page.unwrap_or(1).max(1);
    let page_size = query
        .page_size
        .unwrap_or(DEFAULT_PAGE_SIZE)
        .clamp(1, MAX_PAGE_SIZE);
    let (entries, total) = app.store.audit_page(&filter, page, page_size)?;
    let logs: Vec<Value> = entries.iter().map(entry_json).collect();
    Ok(Json(json!({
        "logs": logs,
        "total": total,
        "page": page,
        "page_size": page_size,
    })))
}

fn visible(actor: &Actor, entry: &AuditEntry) -> bool {
    match actor.audit_scope() {
        AuditScope::All => true,
        AuditScope::Tenant(tenant) => entry.tenant_id.as_deref() == Some(tenant),
        AuditScope::User(user) => entry.user_id.as_deref() == Some(user),
    }
}

pub async fn get_one(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::bad_request("id must be a number"))?;
    let entry = app
        .store
        .audit_entry(id)?
        .filter(|entry| visible(&actor, entry))
        .ok_or_else(|| ApiError::not_found("audit entry"))?;
    Ok(Json(entry_json(&entry)))
}

/// RFC 4180 quoting; a leading `=`, `+`, `-`, `@`, TAB or CR is prefixed with `'` so
/// spreadsheets do not run a client-chosen value (an object key, a user name tried at login)
/// as a formula (OWASP's CSV injection list: a TAB or CR before `=` is skipped by some).
fn csv_field(text: &str) -> String {
    let guarded = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

const CSV_HEADER: &str = "id,timestamp,source,tenant_id,user_id,username,event_type,\
    resource_type,resource,action,status,http_status,ip,user_agent,request_id,details\r\n";

fn csv_row(entry: &AuditEntry) -> String {
    let json = entry_json(entry);
    let text = |name: &str| match &json[name] {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let row: Vec<String> = [
        "id",
        "timestamp",
        "source",
        "tenant_id",
        "user_id",
        "username",
        "event_type",
        "resource_type",
        "resource",
        "action",
        "status",
        "http_status",
        "ip",
        "user_agent",
        "request_id",
    ]
    .iter()
    .map(|name| csv_field(&text(name)))
    .chain(std::iter::once(csv_field(
        entry.details.as_deref().unwrap_or(""),
    )))
    .collect();
    let mut line = row.join(",");
    line.push_str("\r\n");
    line
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Csv,
    Json,
}

/// Pages of an export in flight to the client. The channel's bound is what keeps memory flat:
/// the producer fetches the next page only once the client has taken the earlier ones.
const EXPORT_CHUNKS_IN_FLIGHT: usize = 4;

/// The receiving end of an export as a body stream.
struct Chunks(mpsc::Receiver<String>);

impl futures_core::Stream for Chunks {
    type Item = Result<String, std::convert::Infallible>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.poll_recv(cx).map(|chunk| chunk.map(Ok))
    }
}

/// Fetches the matching entries newest first, a page (`MAX_PAGE_SIZE`) at a time, up to
/// `MAX_EXPORT_ROWS`, and sends each page formatted; stops when the client goes away.
async fn produce(app: Arc<App>, filter: AuditFilter, format: Format, out: mpsc::Sender<String>) {
    let opening = match format {
        Format::Csv => CSV_HEADER.to_owned(),
        Format::Json => "{\"logs\":[".to_owned(),
    };
    if out.send(opening).await.is_err() {
        return;
    }
    let mut before = None;
    let mut sent: u32 = 0;
    while sent < MAX_EXPORT_ROWS {
        let limit = MAX_PAGE_SIZE.min(MAX_EXPORT_ROWS - sent);
        let page = match app.store.audit_before(&filter, before, limit) {
            Ok(page) => page,
            Err(error) => {
                // The status line is gone already: the body ends short, and the log says why.
                tracing::error!(%error, "audit export: page not read");
                return;
            }
        };
        let Some(last) = page.last() else { break };
        before = Some(last.id);
        let mut chunk = String::new();
        for entry in &page {
            match format {
                Format::Csv => chunk.push_str(&csv_row(entry)),
                Format::Json => {
                    if sent > 0 {
                        chunk.push(',');
                    }
                    chunk.push_str(&entry_json(entry).to_string());
                }
            }
            sent += 1;
        }
        let short = page.len() < usize::try_from(limit).unwrap_or(usize::MAX);
        if out.send(chunk).await.is_err() || short {
            break;
        }
    }
    if format == Format::Json {
        let _ = out.send(format!("],\"total\":{sent}}}")).await;
    }
}

pub async fn export(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Query(query): Query<AuditQuery>,
) -> ApiResult<Response> {
    let filter = filter_of(&actor, &query)?;
    let (format, content_type, disposition) = match query.format.as_deref().unwrap_or("csv") {
        "csv" => (
            Format::Csv,
            "text/csv; charset=utf-8",
            "attachment; filename=\"audit-logs.csv\"",
        ),
        "json" => (
            Format::Json,
            "application/json",
            "attachment; filename=\"audit-logs.json\"",
        ),
        _ => return Err(ApiError::bad_request("format: csv or json")),
    };
    let (sender, receiver) = mpsc::channel(EXPORT_CHUNKS_IN_FLIGHT);
    tokio::spawn(produce(app, filter, format, sender));
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        axum::body::Body::from_stream(Chunks(receiver)),
    )
        .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_formula_safe() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("=cmd()"), "'=cmd()");
        for dangerous in ["+1", "-1", "@SUM(1)", "\t=cmd()", "\r=cmd()"] {
            assert!(
                csv_field(dangerous)
                    .trim_start_matches('"')
                    .starts_with('\''),
                "{dangerous:?} -> {:?}",
                csv_field(dangerous)
            );
        }
    }

    #[test]
    fn dates_parse_in_three_forms() {
        assert_eq!(parse_time("10", false).unwrap(), 10_000);
        assert_eq!(parse_time("1970-01-02", false).unwrap(), 86_400_000);
        assert_eq!(parse_time("1970-01-01", true).unwrap(), 86_399_999);
        assert_eq!(parse_time("1970-01-01T00:00:01Z", false).unwrap(), 1000);
        assert!(parse_time("yesterday", false).is_err());
    }
}
