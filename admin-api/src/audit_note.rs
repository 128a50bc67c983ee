//! `AuditNote`: what a handler adds to its response for the audit layer (`http.rs`) beyond the
//! route itself. Its own module so that handlers and the error type can name it without
//! importing the router (which imports them).

/// What a handler tells the audit layer beyond the route itself.
#[derive(Clone, Debug, Default)]
pub struct AuditNote {
    pub event: Option<&'static str>,
    pub user_id: Option<String>,
    pub username: Option<String>,
    pub tenant_id: Option<String>,
    pub resource_type: Option<&'static str>,
    pub resource: Option<String>,
    pub details: Option<String>,
}
