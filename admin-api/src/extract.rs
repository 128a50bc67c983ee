//! Extractors of the console API's handlers: a JSON body whose errors are JSON, the session
//! the layer in `http.rs` authenticated, and the client's address.

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use serde::de::DeserializeOwned;

use crate::authz::Actor;
use crate::error::ApiError;

/// A JSON body whose errors are JSON too.
pub struct Body<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        Json::<T>::from_request(request, state)
            .await
            .map(|Json(value)| Body(value))
            .map_err(|rejection| ApiError::bad_request(rejection.body_text()))
    }
}

/// The session a request came with (set by the layer).
#[derive(Clone, Debug)]
pub struct Authenticated {
    pub actor: Actor,
    pub token_digest: String,
}

/// The logged-in identity; 401 without a live session.
pub struct Auth(pub Actor);

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Authenticated>()
            .map(|session| Auth(session.actor.clone()))
            .ok_or_else(|| ApiError::unauthorized("a valid Bearer token is required"))
    }
}

pub struct Session(pub Authenticated);

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Authenticated>()
            .map(|session| Session(session.clone()))
            .ok_or_else(|| ApiError::unauthorized("a valid Bearer token is required"))
    }
}

/// The session if there is one (for routes open to a token too, like `/metrics`).
pub struct MaybeSession(pub Option<Authenticated>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeSession(
            parts.extensions.get::<Authenticated>().cloned(),
        ))
    }
}

/// The client's address as a string: the TCP peer, or from `X-Forwarded-For` when the peer is
/// a trusted proxy (`proxy.rs`).
#[derive(Clone, Debug)]
pub struct ClientIp(pub String);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<ClientIp>()
            .cloned()
            .unwrap_or_else(|| ClientIp("unknown".into())))
    }
}

/// The token of an `Authorization: Bearer` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}
