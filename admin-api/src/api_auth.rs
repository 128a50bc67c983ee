//! Login (password, then TOTP or a backup code when 2FA is on), sessions, and 2FA enrolment.
//! Sessions are random opaque tokens stored as digests; they expire after
//! `security.session_timeout` seconds, `refresh` extends them (never past
//! `security.session_max_lifetime` after the login) and `logout` revokes them.
//!
//! A failed login answers the same whatever failed (no such user, wrong password, account
//! locked, root login switched off), after the same Argon2 work: neither the answer nor its
//! timing tells which user names exist or which account is locked.

use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use control::sealing;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::Shared;
use crate::app::{App, now_seconds, rfc3339};
use crate::audit_note::AuditNote;
use crate::authz::Actor;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Auth, Body, ClientIp, Session};
use crate::secrets;
use crate::settings;
use crate::store::User;
use crate::totp;

/// Seconds between the password step and the 2FA step of a login.
const TWO_FACTOR_WINDOW: i64 = 300;
/// Longest user name or password looked at (longer ones cannot match).
const MAX_CREDENTIAL_BYTES: usize = 1024;

#[derive(Deserialize)]
pub struct LoginRequest {
    username: String,
    password: String,
}

fn note_for(user_id: Option<&str>, username: &str, tenant_id: Option<&str>) -> AuditNote {
    AuditNote {
        user_id: user_id.map(Into::into),
        username: Some(username.chars().take(128).collect()),
        tenant_id: tenant_id.map(Into::into),
        resource_type: Some("auth"),
        resource: Some(username.chars().take(128).collect()),
        ..AuditNote::default()
    }
}

/// The audit note of an unauthenticated call that succeeded (who it was is in the note).
fn success(note: AuditNote, event: &'static str) -> Extension<AuditNote> {
    Extension(AuditNote {
        event: Some(event),
        ..note
    })
}

/// The one answer of every failed login, whatever failed (the audit note says what).
fn failed_login(note: AuditNote, reason: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "InvalidCredentials",
        "invalid user name or password",
    )
    .with_note(AuditNote {
        event: Some("login_failed"),
        details: Some(json!({"reason": reason}).to_string()),
        ..note
    })
}

/// A hash no password matches (of random bytes), for logins of unknown users.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| secrets::hash_password(&secrets::new_token()).unwrap_or_default())
}

fn session_timeout(app: &App) -> i64 {
    i64::try_from(app.live().number(settings::SESSION_TIMEOUT)).unwrap_or(86_400)
}

fn new_session(app: &App, user_id: &str) -> ApiResult<(String, i64)> {
    let token = secrets::new_token();
    let now = now_seconds();
    let lifetime = session_timeout(app).min(app.session_max_lifetime());
    let expires_at = now + lifetime;
    app.store.insert_session(
        &secrets::digest(&token),
        user_id,
        "session",
        now,
        expires_at,
    )?;
    Ok((token, expires_at))
}

fn session_body(token: &str, expires_at: i64, user: &Value) -> Value {
    json!({
        "token": token,
        "token_type": "Bearer",
        "expires_at": rfc3339(expires_at),
        "expires_in": expires_at - now_seconds(),
        "user": user,
    })
}

pub fn actor_json(app: &App, actor: &Actor) -> ApiResult<Value> {
    if actor.is_root {
        return Ok(json!({
            "id": actor.user_id,
            "username": actor.username,
            "tenant_id": null,
            "role": "global_admin",
            "status": "active",
            "root": true,
            "two_factor_enabled": false,
        }));
    }
    let user = app
        .store
        .user(&actor.user_id)?
        .ok_or_else(|| ApiError::unauthorized("the session's user is gone"))?;
    Ok(crate::api_identity::user_json(&user))
}

/// Counts a failed password or code (atomically: concurrent failures all count); locks the
/// account at `security.max_failed_attempts`. True when this failure locked it.
fn count_failure(app: &App, user: &User) -> ApiResult<bool> {
    let live = app.live();
    let limit = i64::try_from(live.number(settings::MAX_FAILED_ATTEMPTS)).unwrap_or(5);
    let duration = i64::try_from(live.number(settings::LOCKOUT_DURATION)).unwrap_or(900);
    Ok(app
        .store
        .record_failure(&user.id, limit, duration, now_seconds())?)
}

fn locked_error(user: &User) -> ApiError {
    ApiError::new(
        StatusCode::LOCKED,
        "AccountLocked",
        format!(
            "too many failed logins: locked until {}",
            rfc3339(user.locked_until)
        ),
    )
    .with_note(AuditNote {
        event: Some("login_failed"),
        details: Some(json!({"reason": "locked"}).to_string()),
        ..note_for(Some(&user.id), &user.username, user.tenant_id.as_deref())
    })
}

fn lockout_entry(user: &User, ip: &str) -> crate::store::AuditEntry {
    crate::store::AuditEntry {
        timestamp_ms: crate::app::now_ms(),
        source: "console".into(),
        tenant_id: user.tenant_id.clone(),
        user_id: Some(user.id.clone()),
        username: Some(user.username.clone()),
        event_type: "user_blocked".into(),
        resource_type: Some("users".into()),
        resource: Some(user.username.clone()),
        action: "lockout".into(),
        status: "success".into(),
        ip: Some(ip.to_owned()),
        ..crate::store::AuditEntry::default()
    }
}

/// The root identity's login: Argon2 against a hash of its secret (the same work as any
/// login), its own lockout, and the switch `security.root_console_login`.
async fn root_login(app: &App, password: String, note: AuditNote) -> ApiResult<Json<Value>> {
    let verified = app.verify_password(password, app.root_hash.clone()).await?;
    let now = now_seconds();
    let fail = |reason: &str| {
        app.metrics.logins.with_label_values(&["failure"]).inc();
        Err(failed_login(note.clone(), reason))
    };
    if !app.live().flag(settings::ROOT_CONSOLE_LOGIN) {
        return fail("root_login_disabled");
    }
    if app.root_locked(now) {
        app.metrics.logins.with_label_values(&["locked"]).inc();
        return fail("locked");
    }
    if !verified {
        if app.root_failure(now) {
            tracing::warn!("root console login locked after failed attempts");
        }
        return fail("password");
    }
    if !app.root_success(now) {
        return fail("locked");
    }
    let actor = app.root_actor();
    let (token, expires_at) = new_session(app, &actor.user_id)?;
    app.metrics.logins.with_label_values(&["success"]).inc();
    Ok(Json(session_body(
        &token,
        expires_at,
        &actor_json(app, &actor)?,
    )))
}

// One linear flow: the order of the checks (rate limit, lockout, password, status, 2FA) is
// the point, and reads best in one place.
#[allow(clippy::too_many_lines)]
pub async fn login(
    State(app): State<Shared>,
    ClientIp(ip): ClientIp,
    Body(request): Body<LoginRequest>,
) -> ApiResult<(Extension<AuditNote>, Json<Value>)> {
    let note = note_for(None, &request.username, None);
    if !app.login_allowed(&ip) {
        app.metrics
            .logins
            .with_label_values(&["rate_limited"])
            .inc();
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "too many login attempts from this address; try again in a minute",
        )
        .with_note(AuditNote {
            event: Some("login_failed"),
            details: Some(json!({"reason": "rate_limited"}).to_string()),
            ..note
        }));
    }
    if request.username.len() > MAX_CREDENTIAL_BYTES
        || request.password.len() > MAX_CREDENTIAL_BYTES
    {
        app.metrics.logins.with_label_values(&["failure"]).inc();
        return Err(failed_login(note, "too_long"));
    }
    // Digests: equal lengths, so the comparison's time does not depend on the root's name.
    let is_root = secrets::equal(
        secrets::digest(&request.username).as_bytes(),
        secrets::digest(&app.root.user).as_bytes(),
    );
    if is_root {
        let answer = root_login(&app, request.password, note.clone()).await?;
        let actor = app.root_actor();
        let note = note_for(Some(&actor.user_id), &actor.username, None);
        return Ok((success(note, "login_success"), answer));
    }
    let user = app
        .store
        .user(&request.username)?
        .filter(|user| user.username == request.username);
    // The same Argon2 work whether the user exists or not, so the timing does not tell.
    let hash = user.as_ref().map_or_else(
        || dummy_hash().to_owned(),
        |user| user.password_hash.clone(),
    );
    let verified = app.verify_password(request.password, hash).await?;
    let Some(user) = user else {
        app.metrics.logins.with_label_values(&["failure"]).inc();
        return Err(failed_login(note, "no_such_user"));
    };
    let note = note_for(Some(&user.id), &user.username, user.tenant_id.as_deref());
    if user.locked_until > now_seconds() {
        // Answered like a wrong password: a lockout is not announced to whoever triggers it.
        app.metrics.logins.with_label_values(&["locked"]).inc();
        return Err(failed_login(note, "locked"));
    }
    if !verified {
        app.metrics.logins.with_label_values(&["failure"]).inc();
        if count_failure(&app, &user)? {
            app.audit(&lockout_entry(&user, &ip));
        }
        return Err(failed_login(note, "password"));
    }
    // Argon2 took tens of milliseconds: decide on the row as it is now. A password changed
    // meanwhile means the one verified is no longer it; status and 2FA may have changed too.
    let verified_hash = user.password_hash;
    let Some(user) = app
        .store
        .user(&user.id)?
        .filter(|fresh| fresh.password_hash == verified_hash)
    else {
        app.metrics.logins.with_label_values(&["failure"]).inc();
        return Err(failed_login(note, "password_changed"));
    };
    if user.status != "active" || !app.tenant_enabled(&user)? {
        app.metrics.logins.with_label_values(&["failure"]).inc();
        let reason = if user.status == "active" {
            "the account's tenant is disabled".to_owned()
        } else {
            format!("the account is {}", user.status)
        };
        return Err(
            ApiError::new(StatusCode::FORBIDDEN, "AccountDisabled", reason).with_note(AuditNote {
                event: Some("login_failed"),
                ..note
            }),
        );
    }
    if !app.store.clear_failures(&user.id, now_seconds())? {
        // Locked by failures that raced this login.
        app.metrics.logins.with_label_values(&["locked"]).inc();
        return Err(failed_login(note, "locked"));
    }
    if user.totp_enabled {
        let temp = secrets::new_token();
        let now = now_seconds();
        app.store.insert_session(
            &secrets::digest(&temp),
            &user.id,
            "2fa",
            now,
            now + TWO_FACTOR_WINDOW,
        )?;
        return Ok((
            success(note, "login_password_verified"),
            Json(json!({
                "requires_2fa": true,
                "temp_token": temp,
                "expires_in": TWO_FACTOR_WINDOW,
            })),
        ));
    }
    let (token, expires_at) = new_session(&app, &user.id)?;
    app.metrics.logins.with_label_values(&["success"]).inc();
    Ok((
        success(note, "login_success"),
        Json(session_body(
            &token,
            expires_at,
            &crate::api_identity::user_json(&user),
        )),
    ))
}

/// Checks a TOTP code (once per step, atomically: two requests racing with one code cannot
/// both pass) or an unused backup code.
async fn check_second_factor(app: &App, user: &User, code: &str) -> ApiResult<bool> {
    let Some(stored) = user.totp_secret.as_deref() else {
        return Ok(false);
    };
    let opened = app
        .open(&sealing::totp_context(&user.id), stored)
        .await
        .map_err(|error| ApiError::secret(&error))?;
    let Some(secret) = opened.text().ok().and_then(totp::decode_secret) else {
        return Err(ApiError::internal(&"stored TOTP secret unreadable"));
    };
    let now_step = totp::step_of(u64::try_from(now_seconds()).unwrap_or(0));
    let last = user
        .totp_last_step
        .and_then(|step| u64::try_from(step).ok());
    if let Some(step) = totp::verify(&secret, code, now_step, last) {
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        return Ok(app.store.use_totp_step(&user.id, step)?);
    }
    if code.len() <= 64 {
        let digest = secrets::backup_code_digest(code);
        return Ok(app
            .store
            .use_backup_code(&user.id, &digest, now_seconds())?);
    }
    Ok(false)
}

#[derive(Deserialize)]
pub struct VerifyRequest {
    temp_token: String,
    code: String,
}

pub async fn totp_verify(
    State(app): State<Shared>,
    ClientIp(ip): ClientIp,
    Body(request): Body<VerifyRequest>,
) -> ApiResult<(Extension<AuditNote>, Json<Value>)> {
    let digest = secrets::digest(&request.temp_token);
    let Some((user_id, _)) = app
        .store
        .session(&digest, "2fa", now_seconds(), TWO_FACTOR_WINDOW)?
    else {
        return Err(ApiError::unauthorized("unknown or expired temp_token"));
    };
    let Some(user) = app.store.user(&user_id)?.filter(|user| user.id == user_id) else {
        return Err(ApiError::unauthorized("unknown or expired temp_token"));
    };
    let note = note_for(Some(&user.id), &user.username, user.tenant_id.as_deref());
    if user.locked_until > now_seconds() {
        return Err(locked_error(&user));
    }
    if !app.login_allowed(&ip) {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            "too many login attempts from this address; try again in a minute",
        )
        .with_note(note));
    }
    if !check_second_factor(&app, &user, &request.code).await? {
        app.metrics.logins.with_label_values(&["failure"]).inc();
        if count_failure(&app, &user)? {
            app.store.delete_session(&digest)?;
            app.audit(&lockout_entry(&user, &ip));
        }
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "InvalidCode",
            "invalid or already used code",
        )
        .with_note(AuditNote {
            event: Some("2fa_verify_failed"),
            ..note
        }));
    }
    app.store.delete_session(&digest)?;
    if !app.store.clear_failures(&user.id, now_seconds())? {
        return Err(locked_error(&user));
    }
    let (token, expires_at) = new_session(&app, &user.id)?;
    app.metrics.logins.with_label_values(&["success"]).inc();
    Ok((
        success(note, "2fa_verify_success"),
        Json(session_body(
            &token,
            expires_at,
            &crate::api_identity::user_json(&user),
        )),
    ))
}

pub async fn logout(
    State(app): State<Shared>,
    Session(session): Session,
) -> ApiResult<Json<Value>> {
    app.store.delete_session(&session.token_digest)?;
    Ok(Json(json!({"message": "logged out"})))
}

pub async fn refresh(
    State(app): State<Shared>,
    Session(session): Session,
) -> ApiResult<Json<Value>> {
    let now = now_seconds();
    let expires_at = app
        .store
        .extend_session(
            &session.token_digest,
            now + session_timeout(&app),
            app.session_max_lifetime(),
        )?
        .ok_or_else(|| ApiError::unauthorized("the session ended"))?;
    Ok(Json(json!({
        "expires_at": rfc3339(expires_at),
        "expires_in": expires_at - now,
    })))
}

pub async fn me(State(app): State<Shared>, Auth(actor): Auth) -> ApiResult<Json<Value>> {
    Ok(Json(actor_json(&app, &actor)?))
}

/// The acting user's row; the root identity has none (and so no 2FA: it is the break-glass
/// credential, protected by being secret and rate limited).
fn own_user(app: &App, actor: &Actor) -> ApiResult<User> {
    if actor.is_root {
        return Err(ApiError::bad_request(
            "the root identity has no 2FA; create a global admin user for daily use",
        ));
    }
    app.store
        .user(&actor.user_id)?
        .ok_or_else(|| ApiError::unauthorized("the session's user is gone"))
}

pub async fn totp_setup(State(app): State<Shared>, Auth(actor): Auth) -> ApiResult<Json<Value>> {
    let user = own_user(&app, &actor)?;
    app.account_change_allowed(&user.id)?;
    if user.totp_enabled {
        return Err(ApiError::conflict(
            "TwoFactorAlreadyEnabled",
            "2FA is already enabled; disable it first",
        ));
    }
    let secret = totp::new_secret();
    let uri = totp::otpauth_uri(&user.username, &secret);
    let qr = totp::qr_code_data_uri(&uri).map_err(|error| ApiError::internal(&error))?;
    let sealed = app
        .seal(
            &sealing::totp_context(&user.id),
            totp::encode_secret(&secret).as_bytes(),
        )
        .await
        .map_err(|error| ApiError::secret(&error))?;
    app.store
        .set_totp_pending(&user.id, &sealed, now_seconds())?;
    Ok(Json(json!({
        "secret": totp::encode_secret(&secret),
        "otpauth_url": uri,
        "qr_code": qr,
        "issuer": totp::ISSUER,
        "digits": totp::DIGITS,
        "period": totp::STEP_SECONDS,
        "algorithm": "SHA1",
    })))
}

#[derive(Deserialize)]
pub struct CodeRequest {
    #[serde(default)]
    code: Option<String>,
    #[serde(default)]
    password: Option<String>,
}

/// Fresh backup codes and their digests (what is stored).
fn new_backup_codes() -> (Vec<String>, Vec<String>) {
    let codes: Vec<String> = (0..secrets::BACKUP_CODES)
        .map(|_| secrets::new_backup_code())
        .collect();
    let digests = codes
        .iter()
        .map(|code| secrets::backup_code_digest(code))
        .collect();
    (codes, digests)
}

/// Turns 2FA on; the user's other sessions end (they were opened without the second factor).
pub async fn totp_enable(
    State(app): State<Shared>,
    Session(session): Session,
    Body(request): Body<CodeRequest>,
) -> ApiResult<Json<Value>> {
    let user = own_user(&app, &session.actor)?;
    app.account_change_allowed(&user.id)?;
    let Some(pending) = user.totp_pending_secret.clone() else {
        return Err(ApiError::bad_request("call /auth/2fa/setup first"));
    };
    // `pending` stays the stored (sealed) text: `enable_totp` checks it is still the one.
    let opened = app
        .open(&sealing::totp_context(&user.id), &pending)
        .await
        .map_err(|error| ApiError::secret(&error))?;
    let secret = opened
        .text()
        .ok()
        .and_then(totp::decode_secret)
        .ok_or_else(|| ApiError::internal(&"stored TOTP secret unreadable"))?;
    let code = request.code.unwrap_or_default();
    let now_step = totp::step_of(u64::try_from(now_seconds()).unwrap_or(0));
    let Some(step) = totp::verify(&secret, &code, now_step, None) else {
        return Err(ApiError::bad_request("invalid code"));
    };
    let (codes, digests) = new_backup_codes();
    let enabled = app.store.enable_totp(
        &user.id,
        &pending,
        i64::try_from(step).unwrap_or(i64::MAX),
        &digests,
        Some(&session.token_digest),
        now_seconds(),
    )?;
    if !enabled {
        return Err(ApiError::changed_meanwhile());
    }
    Ok(Json(json!({"enabled": true, "backup_codes": codes})))
}

/// Turns 2FA off; the user's other sessions end.
pub async fn totp_disable(
    State(app): State<Shared>,
    Session(session): Session,
    Body(request): Body<CodeRequest>,
) -> ApiResult<Json<Value>> {
    let user = own_user(&app, &session.actor)?;
    app.account_change_allowed(&user.id)?;
    if !user.totp_enabled {
        return Err(ApiError::bad_request("2FA is not enabled"));
    }
    let by_code = match &request.code {
        Some(code) => check_second_factor(&app, &user, code).await?,
        None => false,
    };
    let by_password = match request.password {
        Some(password) if !by_code => {
            app.verify_password(password, user.password_hash.clone())
                .await?
        }
        _ => false,
    };
    if !by_code && !by_password {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "InvalidCode",
            "a valid code or the password is required",
        ));
    }
    app.store
        .disable_totp(&user.id, Some(&session.token_digest), now_seconds())?;
    Ok(Json(json!({"enabled": false})))
}

pub async fn backup_codes(
    State(app): State<Shared>,
    Auth(actor): Auth,
    Body(request): Body<CodeRequest>,
) -> ApiResult<Json<Value>> {
    let user = own_user(&app, &actor)?;
    app.account_change_allowed(&user.id)?;
    if !user.totp_enabled {
        return Err(ApiError::bad_request("2FA is not enabled"));
    }
    let code = request.code.unwrap_or_default();
    if !check_second_factor(&app, &user, &code).await? {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "InvalidCode",
            "a valid code is required",
        ));
    }
    let (codes, digests) = new_backup_codes();
    app.store.replace_backup_codes(&user.id, &digests)?;
    Ok(Json(json!({"backup_codes": codes})))
}

pub async fn totp_status(State(app): State<Shared>, Auth(actor): Auth) -> ApiResult<Json<Value>> {
    if actor.is_root {
        return Ok(Json(json!({"enabled": false, "backup_codes_remaining": 0})));
    }
    let user = own_user(&app, &actor)?;
    let remaining = if user.totp_enabled {
        app.store.unused_backup_codes(&user.id)?
    } else {
        0
    };
    Ok(Json(json!({
        "enabled": user.totp_enabled,
        "setup_pending": user.totp_pending_secret.is_some(),
        "backup_codes_remaining": remaining,
    })))
}
