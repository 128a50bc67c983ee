//! The AWS STS API on the S3 port, for the calls SDKs and the aws cli make: `AssumeRole`,
//! `GetSessionToken` and `GetCallerIdentity`, as AWS's query protocol (form-encoded `POST /`,
//! signed with SigV4 for service `sts`, XML answers in STS's namespace, STS's error shape).
//!
//! Sessions are minted here (`runtime::sessions`) for the signing user: a session has its
//! user's rights at each request, narrowed by an inline session policy. There are no IAM
//! roles: `AssumeRole` accepts any well-formed `RoleArn` and gives a session of the caller
//! (as MinIO does), its ARN an `assumed-role` ARN that names the role and session. The root
//! credential mints no sessions (a user's key does), and sessions do not mint sessions.

use std::fmt::Write as _;

use runtime::ShardContext;
use runtime::identity::{KeyEntry, Principal};
use runtime::sessions::{self, AssumedRole, SessionRequest};
use s3_proto::error::{S3Error, S3ErrorCode};
use s3_proto::sigv4::{Authenticated, PayloadMode};
use s3_proto::xml::escape;
use sha2::Digest as _;

use crate::auth::{self, Credentials};
use crate::body::{BodyPace, HttpBody};
use crate::exchange::Exchange;
use crate::request::BodyFraming;
use crate::response::Response;
use crate::s3_error;

const NAMESPACE: &str = "https://sts.amazonaws.com/doc/2011-06-15/";
/// A form with a 2048-byte session policy, percent-encoded, fits with room to spare.
const BODY_BYTES_MAX: u64 = 16 * 1024;
/// Form fields read; SDKs send fewer than ten.
const FIELDS_MAX: usize = 64;

/// An STS error: code, status and message as STS words them.
struct StsError {
    status: u16,
    code: &'static str,
    message: String,
}

impl StsError {
    fn new(status: u16, code: &'static str, message: impl Into<String>) -> StsError {
        StsError {
            status,
            code,
            message: message.into(),
        }
    }

    fn validation(message: impl Into<String>) -> StsError {
        StsError::new(400, "ValidationError", message)
    }

    /// The authentication refusals the S3 path words as S3 errors, worded as STS does.
    fn from_s3(error: &S3Error) -> StsError {
        let message = error.message.clone().unwrap_or_default();
        match error.code {
            S3ErrorCode::InvalidAccessKeyId | S3ErrorCode::InvalidToken => StsError::new(
                403,
                "InvalidClientTokenId",
                "The security token included in the request is invalid.",
            ),
            S3ErrorCode::ExpiredToken => StsError::new(
                400,
                "ExpiredToken",
                "The security token included in the request is expired",
            ),
            S3ErrorCode::SignatureDoesNotMatch => StsError::new(
                403,
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you provided.",
            ),
            S3ErrorCode::RequestTimeTooSkewed => StsError::new(
                400,
                "RequestExpired",
                "Request has expired: the signing time is too far from the server's clock.",
            ),
            S3ErrorCode::AccessDenied => StsError::new(403, "AccessDenied", message),
            _ => StsError::new(400, "IncompleteSignature", message),
        }
    }

    fn response(&self, request_id: &str) -> Response {
        let mut body = String::with_capacity(256);
        let kind = if self.status >= 500 {
            "Receiver"
        } else {
            "Sender"
        };
        let _ = write!(
            body,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ErrorResponse xmlns=\"{NAMESPACE}\">\
             <Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error>\
             <RequestId>{}</RequestId></ErrorResponse>",
            self.code,
            escape(&self.message),
            escape(request_id)
        );
        let mut response = Response::xml(body);
        response.status = self.status;
        response
    }
}

/// `POST /` with a form: an STS call. Answers in STS's shape, errors included (SDKs parse
/// `ErrorResponse`, not S3's `Error`).
pub async fn sts_request(exchange: &mut Exchange<'_>) -> Result<Response, S3Error> {
    let content_type = exchange.head.header_str("content-type").unwrap_or_default();
    let is_form = content_type.split(';').next().is_some_and(|media| {
        media
            .trim()
            .eq_ignore_ascii_case("application/x-www-form-urlencoded")
    });
    if !is_form {
        // Not an STS call: what S3 answers to a POST on the service.
        return Err(s3_proto::router::method_not_allowed(
            "POST",
            &exchange.head.raw_path,
        ));
    }
    let answer = match serve(exchange).await {
        Ok(body) => {
            // STS answers `text/xml` (S3 `application/xml`).
            let mut response = Response::new(200);
            response
                .headers
                .push(("Content-Type", "text/xml".to_owned()));
            response.body = body.into_bytes();
            response
        }
        Err(error) => {
            exchange.connection.accounting.error_code = Some(error.code);
            error.response(&exchange.request_id)
        }
    };
    Ok(answer)
}

async fn serve(exchange: &mut Exchange<'_>) -> Result<String, StsError> {
    let body = read_form(exchange).await?;
    let (access_key_id, entry) = authenticate(exchange, &body)?;
    let fields: Vec<(String, String)> = form_urlencoded::parse(&body)
        .take(FIELDS_MAX + 1)
        .map(|(name, value)| (name.into_owned(), value.into_owned()))
        .collect();
    if fields.len() > FIELDS_MAX {
        return Err(StsError::validation("Too many parameters"));
    }
    let form = Form(&fields);
    exchange.access_key_id.clone_from(&access_key_id);
    let action = form.get("Action").unwrap_or_default();
    let result = match action {
        "GetCallerIdentity" => Ok(caller_identity(entry.as_deref())),
        "GetSessionToken" => {
            get_session_token(exchange.context, &access_key_id, entry.as_deref(), &form)
        }
        "AssumeRole" => assume_role(exchange.context, &access_key_id, entry.as_deref(), &form),
        "" => Err(StsError::new(400, "MissingAction", "Missing Action")),
        other => Err(StsError::new(
            400,
            "InvalidAction",
            format!("Could not find operation {other} for version 2011-06-15"),
        )),
    }?;
    let mut body = String::with_capacity(1024);
    let _ = write!(
        body,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<{action}Response xmlns=\"{NAMESPACE}\">\
         <{action}Result>{result}</{action}Result><ResponseMetadata><RequestId>{}</RequestId>\
         </ResponseMetadata></{action}Response>",
        escape(&exchange.request_id)
    );
    Ok(body)
}

/// The whole form, bounded by `BODY_BYTES_MAX`.
async fn read_form(exchange: &mut Exchange<'_>) -> Result<Vec<u8>, StsError> {
    let BodyFraming::ContentLength(length) = exchange.head.framing else {
        return Err(StsError::new(
            411,
            "MissingContentLength",
            "Content-Length is required",
        ));
    };
    if length > BODY_BYTES_MAX {
        return Err(StsError::validation(format!(
            "The request body is larger than {BODY_BYTES_MAX} bytes"
        )));
    }
    let mut http = HttpBody::new(
        exchange.head.framing,
        exchange.head.expect_continue,
        BodyPace::of(&exchange.context.settings),
    );
    let mut body = Vec::new();
    // Bounded: Content-Length is at most BODY_BYTES_MAX.
    loop {
        let count = http
            .read(exchange.connection, &mut body)
            .await
            .map_err(|error| StsError::from_s3(&s3_error::from_body(&error)))?;
        if count == 0 {
            break;
        }
    }
    exchange.body_complete = true;
    Ok(body)
}

/// Verifies the signature (service `sts`, the body's hash as the payload hash) and resolves
/// the signer.
fn authenticate(
    exchange: &Exchange<'_>,
    body: &[u8],
) -> Result<(String, Option<std::rc::Rc<KeyEntry>>), StsError> {
    let context = exchange.context;
    let head = &exchange.head;
    let body_hash = sha2::Sha256::digest(body);
    let body_hash_hex = hex::encode(body_hash);
    let identity = context.identity();
    let store = Credentials::of_head(context, &identity, head)
        .map_err(|error| StsError::from_s3(&error))?;
    let authenticated = auth::verify_signed(context, head, |signed, auth_context, cache| {
        s3_proto::sigv4::authenticate_service(
            signed,
            auth_context,
            "sts",
            &body_hash_hex,
            &store,
            cache,
        )
    })
    .map_err(|error| StsError::from_s3(&s3_error::from_sigv4(&error, &context.settings.region)))?;
    let Authenticated::Signed {
        access_key_id,
        payload,
    } = authenticated
    else {
        return Err(StsError::new(
            403,
            "MissingAuthenticationToken",
            "Request is missing Authentication Token",
        ));
    };
    match payload {
        PayloadMode::Sha256(claimed_hash) if claimed_hash[..] == body_hash[..] => {}
        _ => {
            return Err(StsError::new(
                400,
                "IncompleteSignature",
                "The request body must be signed and match its x-amz-content-sha256",
            ));
        }
    }
    let principal = store
        .principal(&access_key_id)
        .map_err(|error| StsError::from_s3(&error))?;
    let entry = match principal {
        Principal::Root => None,
        Principal::User(entry) => Some(entry),
    };
    Ok((access_key_id, entry))
}

/// The decoded form fields; the first value of a name counts.
struct Form<'a>(&'a [(String, String)]);

impl Form<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(field, _)| field == name)
            .map(|(_, value)| value.as_str())
    }

    fn has_prefix(&self, prefix: &str) -> bool {
        self.0.iter().any(|(field, _)| field.starts_with(prefix))
    }

    /// `DurationSeconds` within `range`, else `default`.
    fn duration(
        &self,
        range: std::ops::RangeInclusive<u32>,
        default: u32,
    ) -> Result<u32, StsError> {
        let Some(value) = self.get("DurationSeconds") else {
            return Ok(default);
        };
        let seconds: u32 = value.parse().map_err(|_| {
            StsError::validation(format!(
                "Value '{value}' at 'durationSeconds' failed to satisfy constraint: \
                 Member must be a number"
            ))
        })?;
        if !range.contains(&seconds) {
            return Err(StsError::validation(format!(
                "1 validation error detected: Value '{seconds}' at 'durationSeconds' failed to \
                 satisfy constraint: Member must have value between {} and {}",
                range.start(),
                range.end()
            )));
        }
        Ok(seconds)
    }
}

fn caller_identity(entry: Option<&KeyEntry>) -> String {
    let (arn, user_id, account) = match entry {
        None => (
            format!("arn:aws:iam::{}:root", runtime::identity::GLOBAL_ACCOUNT_ID),
            runtime::identity::GLOBAL_ACCOUNT_ID.to_owned(),
            runtime::identity::GLOBAL_ACCOUNT_ID.to_owned(),
        ),
        Some(entry) => {
            let principal = &entry.policy_principal;
            match entry
                .session
                .as_ref()
                .and_then(|session| session.role.as_ref())
            {
                Some(role) => (
                    assumed_role_arn(&principal.account_id, role),
                    format!("{}:{}", entry.user_id, role.session_name),
                    principal.account_id.clone(),
                ),
                None => (
                    principal.arn.clone(),
                    entry.user_id.clone(),
                    principal.account_id.clone(),
                ),
            }
        }
    };
    format!(
        "<Arn>{}</Arn><UserId>{}</UserId><Account>{}</Account>",
        escape(&arn),
        escape(&user_id),
        escape(&account)
    )
}

fn assumed_role_arn(account: &str, role: &AssumedRole) -> String {
    let role_name = role.arn.rsplit('/').next().unwrap_or(&role.arn);
    format!(
        "arn:aws:sts::{account}:assumed-role/{role_name}/{}",
        role.session_name
    )
}

/// The user a new session is for: a user's long-term key (not root, not a session).
fn session_parent<'e>(entry: Option<&'e KeyEntry>, action: &str) -> Result<&'e KeyEntry, StsError> {
    let entry = entry.ok_or_else(|| {
        StsError::new(
            403,
            "AccessDenied",
            format!("The root credential cannot call {action}: use a user's access key"),
        )
    })?;
    if entry.session.is_some() {
        return Err(StsError::new(
            403,
            "AccessDenied",
            format!("Cannot call {action} with session credentials"),
        ));
    }
    Ok(entry)
}

fn refuse_mfa(form: &Form<'_>) -> Result<(), StsError> {
    if form.get("SerialNumber").is_some() || form.get("TokenCode").is_some() {
        return Err(StsError::new(
            403,
            "AccessDenied",
            "MFA-authenticated sessions are not available on this server",
        ));
    }
    Ok(())
}

fn get_session_token(
    context: &ShardContext,
    access_key_id: &str,
    entry: Option<&KeyEntry>,
    form: &Form<'_>,
) -> Result<String, StsError> {
    let entry = session_parent(entry, "GetSessionToken")?;
    refuse_mfa(form)?;
    let duration = form.duration(900..=control::wire::SESSION_DURATION_MAX_SECS, 43_200)?;
    let request = SessionRequest {
        user_id: &entry.user_id,
        parent_access_key: Some(access_key_id),
        duration_secs: duration,
        policy: None,
        role: None,
    };
    Ok(credentials_xml(context, request))
}

fn assume_role(
    context: &ShardContext,
    access_key_id: &str,
    entry: Option<&KeyEntry>,
    form: &Form<'_>,
) -> Result<String, StsError> {
    let entry = session_parent(entry, "AssumeRole")?;
    refuse_mfa(form)?;
    if form.has_prefix("PolicyArns.") || form.has_prefix("Tags.") {
        return Err(StsError::validation(
            "PolicyArns and Tags are not supported: pass an inline Policy",
        ));
    }
    let role_arn = form
        .get("RoleArn")
        .ok_or_else(|| StsError::validation("RoleArn is required"))?;
    if !(20..=2048).contains(&role_arn.len()) || !role_arn.starts_with("arn:") {
        return Err(StsError::validation(format!(
            "{role_arn} is invalid: RoleArn must be an ARN of 20 to 2048 characters"
        )));
    }
    let session_name = form
        .get("RoleSessionName")
        .ok_or_else(|| StsError::validation("RoleSessionName is required"))?;
    let name_ok = (2..=64).contains(&session_name.len())
        && session_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b));
    if !name_ok {
        return Err(StsError::validation(
            "1 validation error detected: Value at 'roleSessionName' failed to satisfy \
             constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]{2,64}",
        ));
    }
    let duration = form.duration(900..=43_200, 3600)?;
    let policy = form.get("Policy");
    if let Some(document) = policy {
        if document.len() > sessions::SESSION_POLICY_BYTES_MAX {
            return Err(StsError::new(
                400,
                "PackedPolicyTooLarge",
                "The inline session policy is larger than 2048 bytes",
            ));
        }
        sessions::check_session_policy(document)
            .map_err(|reason| StsError::new(400, "MalformedPolicyDocument", reason))?;
    }
    let role = AssumedRole {
        arn: role_arn.to_owned(),
        session_name: session_name.to_owned(),
    };
    let assumed = format!(
        "<AssumedRoleUser><Arn>{}</Arn><AssumedRoleId>{}</AssumedRoleId></AssumedRoleUser>",
        escape(&assumed_role_arn(&entry.policy_principal.account_id, &role)),
        escape(&format!("{}:{session_name}", entry.user_id)),
    );
    let request = SessionRequest {
        user_id: &entry.user_id,
        parent_access_key: Some(access_key_id),
        duration_secs: duration,
        policy,
        role: Some(role),
    };
    let packed = policy.map_or(String::new(), |document| {
        let percent = document.len() * 100 / sessions::SESSION_POLICY_BYTES_MAX;
        format!("<PackedPolicySize>{percent}</PackedPolicySize>")
    });
    Ok(format!(
        "{}{assumed}{packed}",
        credentials_xml(context, request)
    ))
}

/// Mints the session and writes its `<Credentials>`.
fn credentials_xml(context: &ShardContext, request: SessionRequest<'_>) -> String {
    let keys = sessions::shard_token_keys(&context.master_keys());
    let minted = sessions::mint(&keys, request, runtime::events::now_ms());
    let expiration = s3_proto::time_format::iso8601_millis(minted.expires_at * 1000);
    // STS writes whole seconds.
    let expiration = expiration.replace(".000Z", "Z");
    format!(
        "<Credentials><AccessKeyId>{}</AccessKeyId><SecretAccessKey>{}</SecretAccessKey>\
         <SessionToken>{}</SessionToken><Expiration>{expiration}</Expiration></Credentials>",
        escape(&minted.access_key_id),
        escape(&minted.secret_access_key),
        escape(&minted.session_token),
    )
}
