//! Cross-origin resource sharing: which of a bucket's CORS rules (PutBucketCors) allows a
//! browser request, and the `Access-Control-*` headers that say so.
//!
//! Two kinds of request meet the rules. A preflight (`OPTIONS` with `Origin` and
//! `Access-Control-Request-Method`) asks before the real request; it is answered without
//! credentials (`handlers::cors`). Every other request that carries `Origin` is served as
//! usual and, when a rule allows its origin and method, its answer (success or error) gets
//! the headers that let the page's script read it. Matching is AWS's: the first rule, in the
//! configuration's order, whose origins, methods and (preflight only) headers all match.
//!
//! Origins are compared case-sensitively (an origin is scheme, host and port as the browser
//! serialises them), header names case-insensitively; a pattern may hold one `*`.

use shard::CorsRule;

use crate::request::RequestHead;

/// What a browser asks of the rules.
pub struct CorsQuery<'a> {
    pub origin: &'a str,
    /// The real request's method (for a preflight, `Access-Control-Request-Method`).
    pub method: &'a str,
    /// Lower-case names from `Access-Control-Request-Headers` (preflight only).
    pub request_headers: &'a [String],
}

/// The first rule that allows `query`.
pub fn find_rule<'r>(rules: &'r [CorsRule], query: &CorsQuery<'_>) -> Option<&'r CorsRule> {
    rules.iter().find(|rule| {
        rule.allowed_methods
            .iter()
            .any(|method| method == query.method)
            && matching_origin(rule, query.origin).is_some()
            && query.request_headers.iter().all(|header| {
                rule.allowed_headers
                    .iter()
                    .any(|pattern| wildcard_match(&pattern.to_ascii_lowercase(), header))
            })
    })
}

/// The rule's origin pattern that matches `origin`.
fn matching_origin<'r>(rule: &'r CorsRule, origin: &str) -> Option<&'r str> {
    rule.allowed_origins
        .iter()
        .map(String::as_str)
        .find(|pattern| wildcard_match(pattern, origin))
}

/// Whether `text` matches `pattern`, in which one `*` stands for any run of characters
/// (configurations with more are refused when stored).
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((prefix, suffix)) => {
            text.len() >= prefix.len() + suffix.len()
                && text.starts_with(prefix)
                && text.ends_with(suffix)
        }
    }
}

/// The headers of an answer that `rule` allows. `Access-Control-Allow-Origin` is `*` when the
/// rule allows every origin (and then no credentials), else the request's origin with
/// `Access-Control-Allow-Credentials: true`, as S3 answers. A preflight also lists the
/// request headers it allowed.
pub fn allow_headers(
    rule: &CorsRule,
    query: &CorsQuery<'_>,
    preflight: bool,
) -> Vec<(&'static str, String)> {
    let mut headers = Vec::with_capacity(7);
    if matching_origin(rule, query.origin) == Some("*") {
        headers.push(("Access-Control-Allow-Origin", "*".to_owned()));
    } else {
        headers.push(("Access-Control-Allow-Origin", query.origin.to_owned()));
        headers.push(("Access-Control-Allow-Credentials", "true".to_owned()));
    }
    headers.push((
        "Access-Control-Allow-Methods",
        rule.allowed_methods.join(", "),
    ));
    if preflight && !query.request_headers.is_empty() {
        headers.push((
            "Access-Control-Allow-Headers",
            query.request_headers.join(", "),
        ));
    }
    if !rule.expose_headers.is_empty() {
        headers.push((
            "Access-Control-Expose-Headers",
            rule.expose_headers.join(", "),
        ));
    }
    if let Some(seconds) = rule.max_age_seconds {
        headers.push(("Access-Control-Max-Age", seconds.to_string()));
    }
    headers.push((
        "Vary",
        "Origin, Access-Control-Request-Headers, Access-Control-Request-Method".to_owned(),
    ));
    headers
}

/// The request's `Origin` when it is a web console's (`--console-origin`): its pages call
/// the S3 API on every bucket with session credentials, whatever the buckets' rules say.
pub fn console_origin<'h>(
    settings: &runtime::SharedSettings,
    head: &'h RequestHead,
) -> Option<&'h str> {
    let origin = head.header_str("origin")?;
    settings
        .console_origins
        .iter()
        .any(|allowed| allowed == origin)
        .then_some(origin)
}

/// Methods a console page uses on the S3 port.
const CONSOLE_METHODS: &str = "GET, HEAD, PUT, POST, DELETE";

/// The headers that let a console page make a request and read its answer: every response
/// header is exposed (`*`: the page sends `Authorization`, never cookies, so the wildcard
/// holds); a preflight allows the headers it asks for.
pub fn console_headers(origin: &str, preflight_headers: &[String]) -> Vec<(&'static str, String)> {
    let mut headers = vec![
        ("Access-Control-Allow-Origin", origin.to_owned()),
        ("Access-Control-Allow-Methods", CONSOLE_METHODS.to_owned()),
        ("Access-Control-Expose-Headers", "*".to_owned()),
        ("Access-Control-Max-Age", "600".to_owned()),
        ("Vary", "Origin".to_owned()),
    ];
    if !preflight_headers.is_empty() {
        headers.push(("Access-Control-Allow-Headers", preflight_headers.join(", ")));
    }
    headers
}

/// The CORS headers for the answer to a (non-preflight) request on `bucket`: a console's
/// origin gets them on every path; any other origin only where one of the bucket's rules
/// allows it and the request's method.
pub fn headers_for_request(
    context: &runtime::ShardContext,
    head: &RequestHead,
    bucket: Option<&str>,
) -> Vec<(&'static str, String)> {
    if let Some(origin) = console_origin(&context.settings, head) {
        return console_headers(origin, &[]);
    }
    let (Some(origin), Some(bucket)) = (head.header_str("origin"), bucket) else {
        return Vec::new();
    };
    let buckets = context.buckets.borrow();
    let Some(entry) = buckets.get(bucket) else {
        return Vec::new();
    };
    let query = CorsQuery {
        origin,
        method: &head.method,
        request_headers: &[],
    };
    find_rule(&entry.record.cors, &query)
        .map(|rule| allow_headers(rule, &query, false))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(methods: &[&str], origins: &[&str], headers: &[&str]) -> CorsRule {
        let strings = |items: &[&str]| items.iter().map(|&item| item.to_owned()).collect();
        CorsRule {
            allowed_methods: strings(methods),
            allowed_origins: strings(origins),
            allowed_headers: strings(headers),
            ..CorsRule::default()
        }
    }

    fn query<'a>(origin: &'a str, method: &'a str, headers: &'a [String]) -> CorsQuery<'a> {
        CorsQuery {
            origin,
            method,
            request_headers: headers,
        }
    }

    #[test]
    fn one_wildcard_matches_any_run_and_nothing_overlaps() {
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match(
            "https://*.example.com",
            "https://a.b.example.com"
        ));
        assert!(!wildcard_match(
            "https://*.example.com",
            "https://example.com"
        ));
        assert!(!wildcard_match(
            "https://*.example.com",
            "http://a.example.com"
        ));
        // Prefix and suffix may not share characters: "ab*ba" does not match "aba".
        assert!(!wildcard_match("ab*ba", "aba"));
        assert!(wildcard_match("x-amz-*", "x-amz-date"));
        assert!(!wildcard_match(
            "https://app.example.com",
            "https://App.example.com"
        ));
    }

    #[test]
    fn the_first_rule_allowing_origin_method_and_headers_wins() {
        let rules = [
            rule(
                &["PUT"],
                &["https://*.example.com"],
                &["content-type", "x-amz-*"],
            ),
            rule(&["GET", "HEAD"], &["*"], &[]),
        ];
        let none: [String; 0] = [];
        let asked = ["content-type".to_owned(), "x-amz-date".to_owned()];
        let put = query("https://app.example.com", "PUT", &asked);
        assert_eq!(find_rule(&rules, &put), Some(&rules[0]));
        // A header the rule does not list refuses the preflight.
        let other = ["authorization".to_owned()];
        assert_eq!(
            find_rule(&rules, &query("https://app.example.com", "PUT", &other)),
            None
        );
        // Allowed headers match whatever case the configuration used.
        let mixed = [rule(&["PUT"], &["*"], &["Content-Type"])];
        let content_type = ["content-type".to_owned()];
        assert!(find_rule(&mixed, &query("https://x", "PUT", &content_type)).is_some());
        assert_eq!(
            find_rule(&rules, &query("https://evil.test", "PUT", &none)),
            None
        );
        assert_eq!(
            find_rule(&rules, &query("https://evil.test", "GET", &none)),
            Some(&rules[1])
        );
        assert_eq!(
            find_rule(&rules, &query("https://evil.test", "DELETE", &none)),
            None
        );
    }

    #[test]
    fn allow_headers_follow_s3() {
        let mut specific = rule(&["GET", "PUT"], &["https://app.example.com"], &["*"]);
        specific.expose_headers = vec!["ETag".into(), "x-amz-request-id".into()];
        specific.max_age_seconds = Some(600);
        let asked = ["content-type".to_owned(), "x-amz-date".to_owned()];
        let preflight = query("https://app.example.com", "PUT", &asked);
        let headers = allow_headers(&specific, &preflight, true);
        let get = |name: &str| {
            headers
                .iter()
                .find(|(header, _)| *header == name)
                .map(|(_, value)| value.as_str())
        };
        assert_eq!(
            get("Access-Control-Allow-Origin"),
            Some("https://app.example.com")
        );
        assert_eq!(get("Access-Control-Allow-Credentials"), Some("true"));
        assert_eq!(get("Access-Control-Allow-Methods"), Some("GET, PUT"));
        assert_eq!(
            get("Access-Control-Allow-Headers"),
            Some("content-type, x-amz-date")
        );
        assert_eq!(
            get("Access-Control-Expose-Headers"),
            Some("ETag, x-amz-request-id")
        );
        assert_eq!(get("Access-Control-Max-Age"), Some("600"));
        assert!(get("Vary").is_some_and(|vary| vary.starts_with("Origin")));
        // An actual request does not repeat the requested headers; an any-origin rule answers
        // `*` without credentials.
        let open = rule(&["GET"], &["*"], &[]);
        let headers = allow_headers(&open, &query("https://x", "GET", &[]), false);
        assert!(headers.contains(&("Access-Control-Allow-Origin", "*".to_owned())));
        assert!(!headers.iter().any(|(name, _)| name.contains("Credentials")));
        assert!(
            !headers
                .iter()
                .any(|(name, _)| *name == "Access-Control-Allow-Headers")
        );
    }
}
