//! `Exchange`: everything a handler needs about the request it serves (the shard, the
//! connection, the parsed head, the route, who signed it), and the answer for an operation
//! this build does not serve.

use std::rc::Rc;

use runtime::ShardContext;
use runtime::events::Actor;
use runtime::identity::Principal;
use s3_proto::error::{S3Error, S3ErrorCode};
use s3_proto::router::{Operation, QueryParams, Route};
use s3_proto::sigv4::PayloadMode;

use crate::connection::Connection;
use crate::request::RequestHead;

/// Everything a handler needs about the request being served.
pub struct Exchange<'a> {
    pub context: &'a Rc<ShardContext>,
    pub connection: &'a mut Connection,
    pub head: RequestHead,
    pub route: Route,
    pub query: QueryParams,
    pub request_id: String,
    pub access_key_id: String,
    /// Who signed the request; `None` only for a POST upload before its form is verified.
    pub principal: Option<Principal>,
    /// Taken by the body reader of the handler that reads the body.
    pub payload: Option<PayloadMode>,
    /// Set by the handler once the request body has been read to its end.
    pub body_complete: bool,
    /// Set by handlers that wrote their response themselves (streamed GET).
    pub responded: bool,
    /// Set when only the object's ACL can allow the request (`auth::acls`): the handler that
    /// loads the object checks that it grants this permission (`handlers::acl`).
    pub object_acl_gate: Option<base::acl::Permission>,
    /// `Access-Control-*` headers for the answer, when the request carries an `Origin` that
    /// one of the bucket's CORS rules allows (`crate::cors`); empty otherwise.
    pub cors_headers: Vec<(&'static str, String)>,
}

impl Exchange<'_> {
    pub fn bucket(&self) -> &str {
        self.route.bucket.as_deref().unwrap_or("")
    }

    pub fn key(&self) -> &str {
        self.route.key.as_deref().unwrap_or("")
    }

    pub fn is_head(&self) -> bool {
        self.head.method == "HEAD"
    }

    /// Who made this request, for the event log.
    pub fn actor(&self) -> Actor {
        actor_of(
            self.principal.as_ref(),
            &self.access_key_id,
            &self.request_id,
            self.connection,
        )
    }

    /// The tenant that owns this request's bucket (`None`: no tenant, or no such bucket).
    pub fn bucket_tenant(&self) -> Option<String> {
        self.context
            .buckets
            .borrow()
            .get(self.bucket())
            .and_then(|entry| entry.record.owner_tenant.clone())
    }

    /// Whether the connection can serve another request after this one.
    pub fn keep_alive(&self) -> bool {
        self.head.keep_alive
            && (self.body_complete || !self.head.has_body())
            && !self.context.shutting_down.get()
    }
}

pub(crate) fn actor_of(
    principal: Option<&Principal>,
    access_key_id: &str,
    request_id: &str,
    connection: &Connection,
) -> Actor {
    Actor {
        access_key_id: (!access_key_id.is_empty()).then(|| access_key_id.to_owned()),
        user_id: principal.and_then(Principal::user_id).map(str::to_owned),
        tenant_id: principal.and_then(Principal::tenant_id).map(str::to_owned),
        request_id: request_id.to_owned(),
        source_ip: connection
            .stream
            .peer_addr()
            .ok()
            .map(|address| address.ip().to_string()),
    }
}

/// Operations this build serves; everything else is answered with NotImplemented.
pub fn not_implemented(operation: Operation) -> S3Error {
    S3Error::with_message(
        S3ErrorCode::NotImplemented,
        format!(
            "{} is not implemented by this server yet",
            operation.as_str()
        ),
    )
}
