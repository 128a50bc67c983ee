//! The console API's error type: JSON bodies (`{"error": {"code", "message"}}`), the status
//! each maps to, and the JSON form of the errors axum answers by itself.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::audit_note::AuditNote;
use crate::limits::GateError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub note: Option<Box<AuditNote>>,
    /// Seconds for a `Retry-After` header (429, 503).
    pub retry_after: Option<u64>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            note: None,
            retry_after: None,
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "InvalidRequest", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Unauthorized", message)
    }

    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "AccessDenied",
            "not allowed for this identity",
        )
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "NotFound", format!("no such {what}"))
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    /// A write found its target changed since the request read it (a concurrent edit); the
    /// client may read again and retry.
    pub fn changed_meanwhile() -> Self {
        Self::conflict(
            "ConcurrentModification",
            "changed by another request meanwhile; read it again and retry",
        )
    }

    pub fn too_many(message: impl Into<String>, retry_after: std::time::Duration) -> Self {
        let mut error = Self::new(StatusCode::TOO_MANY_REQUESTS, "TooManyRequests", message);
        error.retry_after = Some(retry_after.as_secs().max(1));
        error
    }

    /// A secret could not be sealed or opened (no sealing keys yet: 503; a value that does not
    /// open: 500). The message names no secret.
    pub fn secret(error: &SecretError) -> Self {
        match error {
            SecretError::Unavailable(_) => {
                tracing::warn!(%error, "secret not available");
                Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "DataPlaneUnavailable",
                    "the data plane is not reachable: secrets cannot be sealed or opened yet",
                )
            }
            SecretError::Sealing(_) => Self::internal(error),
        }
    }

    /// A change stored in admin.db that the data plane did not take before the answer (503
    /// `NotInForce`). The client must not believe it in force on `place`; it stays saved and
    /// the background loop pushes it until the data plane holds it. The audit entry (the
    /// route's, from `note`) says so in its details, next to what they held already.
    pub fn not_in_force(what: &str, place: &str, reason: &str, note: AuditNote) -> Self {
        let mut details = note
            .details
            .as_deref()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
            .and_then(|value| match value {
                serde_json::Value::Object(map) => Some(map),
                _ => None,
            })
            .unwrap_or_default();
        details.insert("saved".into(), true.into());
        details.insert("in_force".into(), false.into());
        details.insert("reason".into(), reason.into());
        let note = AuditNote {
            details: Some(serde_json::Value::Object(details).to_string()),
            ..note
        };
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "NotInForce",
            format!(
                "{what} is saved but not yet in force on the {place}: {reason}; it is retried \
                 in the background until the data plane takes it"
            ),
        )
        .with_note(note)
    }

    pub fn internal(error: &dyn std::fmt::Display) -> Self {
        tracing::error!(%error, "console API: internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "internal error",
        )
    }

    #[must_use]
    pub fn with_note(mut self, note: AuditNote) -> Self {
        self.note = Some(Box::new(note));
        self
    }
}

impl From<rusqlite::Error> for ApiError {
    fn from(error: rusqlite::Error) -> Self {
        // A constraint that failed is a race a check before the write did not see (a name
        // taken meanwhile, a tenant deleted under a new user): a conflict, not a fault.
        if let rusqlite::Error::SqliteFailure(failure, _) = &error
            && failure.code == rusqlite::ErrorCode::ConstraintViolation
        {
            return Self::changed_meanwhile();
        }
        Self::internal(&error)
    }
}

impl From<GateError> for ApiError {
    fn from(error: GateError) -> Self {
        match error {
            GateError::Busy => {
                let mut error = Self::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Busy",
                    "too many password operations at once; retry shortly",
                );
                error.retry_after = Some(1);
                error
            }
            GateError::Failed(error) => Self::internal(&error),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({"error": {"code": self.code, "message": self.message}});
        let mut response = (self.status, Json(body)).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        if let Some(note) = self.note {
            response.extensions_mut().insert(*note);
        }
        response
    }
}

/// Errors axum answers itself (405, a malformed query, a body over the limit) in the API's
/// JSON shape too.
pub async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/json"));
    if is_json || !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let bytes = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes).trim().to_owned();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    let code = match status {
        StatusCode::METHOD_NOT_ALLOWED => "MethodNotAllowed",
        StatusCode::PAYLOAD_TOO_LARGE => "PayloadTooLarge",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "UnsupportedMediaType",
        _ if status.is_server_error() => "InternalError",
        _ => "InvalidRequest",
    };
    ApiError::new(status, code, message).into_response()
}

/// Why a secret could not be sealed or opened.
#[derive(Debug)]
pub enum SecretError {
    /// No sealing keys yet: the data plane has not been reachable since this admin started.
    Unavailable(String),
    /// A stored value that does not open with the keys held (another keyring, moved, tampered).
    Sealing(control::sealing::SealError),
}

impl std::fmt::Display for SecretError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretError::Unavailable(why) => write!(
                f,
                "secrets cannot be sealed or opened until the data plane hands over the sealing \
                 keys ({why})"
            ),
            SecretError::Sealing(error) => write!(f, "{error}"),
        }
    }
}
