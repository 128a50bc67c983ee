//! The admin process's console API: JSON request bodies and the audit log's query string
//! (admin `fuzzing.rs`, which runs the handlers' own parsing helpers).

/// Input: one byte choosing the endpoint, then the body. Kinds 0-7 are JSON bodies (see
/// `admin::fuzzing::json_body`); a first byte of 8 modulo 9 selects the audit-log query.
pub fn admin_json(data: &[u8]) {
    match data.split_first() {
        Some((kind, query)) if kind % 9 == 8 => admin::fuzzing::audit_query(query),
        _ => admin::fuzzing::json_body(data),
    }
}
