//! The web console's static files, compiled into the binary (`build.rs` picks the folder:
//! `console/dist`, or a placeholder page when the console was not built). Served at `/` of
//! the console port for every path the API does not own: hashed files under `/assets/` are
//! immutable, and any other path gets `index.html`, because the console routes in the
//! browser (`/buckets/photos` is a page, not a file).

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

#[derive(rust_embed::RustEmbed)]
#[folder = "$MAXIOFS_CONSOLE_DIST"]
struct Assets;

/// Scripts, styles, images and API calls from this origin only; no inline script, no plugin,
/// no framing. Inline *styles* are allowed: the dialogs' scroll lock (Radix, through
/// react-remove-scroll) inserts a `<style>` element, and styles cannot run code.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self'; \
     connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
     frame-ancestors 'none'";
/// The policy with the S3 endpoint's origin added to `connect-src`: the object browser calls
/// the S3 port from the page. A wildcard listen address (the console then substitutes its own
/// host name) allows that port on any host. An endpoint that is not a plain origin is left out.
pub fn content_security_policy(s3_endpoint: Option<&str>) -> String {
    let origin = s3_endpoint.and_then(|url| {
        let (scheme, rest) = url.split_once("://")?;
        let authority = rest.split('/').next()?;
        let plain = |c: char| c.is_ascii_alphanumeric() || ".-:[]".contains(c);
        if !matches!(scheme, "http" | "https")
            || authority.is_empty()
            || !authority.chars().all(plain)
        {
            return None;
        }
        let host_end = authority
            .rfind(':')
            .filter(|&at| !authority[at..].contains(']'));
        let (host, port) = host_end.map_or((authority, ""), |at| authority.split_at(at));
        let host = if matches!(host, "0.0.0.0" | "[::]") {
            "*"
        } else {
            host
        };
        Some(format!("{scheme}://{host}{port}"))
    });
    match origin {
        Some(origin) => CONTENT_SECURITY_POLICY.replace(
            "connect-src 'self';",
            &format!("connect-src 'self' {origin};"),
        ),
        None => CONTENT_SECURITY_POLICY.to_owned(),
    }
}

/// `serve`, with `policy` (`content_security_policy`) on the console's own files.
pub fn serve_with_policy(request: &Request, policy: HeaderValue) -> Response {
    let mut response = serve(request);
    if response
        .headers()
        .contains_key(header::CONTENT_SECURITY_POLICY)
    {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    response
}

const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Not hashed, so always revalidated (the ETag makes that a 304).
const REVALIDATE: &str = "no-cache";

/// The fallback of the router: a console file, `index.html` for a client-side route, or the
/// API's JSON 404 for an unknown `/api/` path (and anything but GET or HEAD).
pub fn serve(request: &Request) -> Response {
    let path = request.uri().path();
    let method = request.method();
    if path.starts_with("/api/")
        || path == "/api"
        || (method != Method::GET && method != Method::HEAD)
    {
        return ApiError::not_found("route").into_response();
    }
    let relative = path.trim_start_matches('/');
    if let Some(file) = Assets::get(relative).filter(|_| !relative.is_empty()) {
        let cache = if relative.starts_with("assets/") {
            IMMUTABLE
        } else {
            REVALIDATE
        };
        return file_response(relative, &file, cache, request.headers());
    }
    // A missing hashed file is a stale page asking for an old build: a 404, not index.html
    // (which the browser would refuse as a script anyway).
    if relative.starts_with("assets/") {
        return ApiError::not_found("file").into_response();
    }
    match Assets::get("index.html") {
        Some(index) => file_response("index.html", &index, REVALIDATE, request.headers()),
        None => ApiError::not_found("route").into_response(),
    }
}

fn file_response(
    name: &str,
    file: &rust_embed::EmbeddedFile,
    cache: &'static str,
    request: &HeaderMap,
) -> Response {
    let etag = format!("\"{}\"", hex::encode(&file.metadata.sha256_hash()[..16]));
    let mut headers = secure_headers();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    let not_modified = request
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|tag| tag.trim() == etag));
    if not_modified {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    // Every text file of the build is UTF-8 (Vite's output); saying so spares the sniffing.
    let mime = file.metadata.mimetype();
    let content_type = if mime.starts_with("text/") || mime.ends_with("javascript") {
        format!("{mime}; charset=utf-8")
    } else {
        mime.to_owned()
    };
    if let Ok(value) = HeaderValue::from_str(&content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    // scripts/build-console.sh stores a gzip copy next to each large text file: sent as is
    // to a client that accepts it (every browser), so nothing is compressed per request.
    let gzip = accepts_gzip(request)
        .then(|| Assets::get(&format!("{name}.gz")))
        .flatten();
    let body = match gzip {
        Some(compressed) => {
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            compressed.data
        }
        None => file.data.clone(),
    };
    (StatusCode::OK, headers, Body::from(body.into_owned())).into_response()
}

fn accepts_gzip(request: &HeaderMap) -> bool {
    request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|coding| {
            let mut parts = coding.trim().split(';');
            let name = parts.next().unwrap_or_default().trim();
            let refused = parts.any(|param| matches!(param.trim(), "q=0" | "q=0.0" | "q=0.00"));
            name.eq_ignore_ascii_case("gzip") && !refused
        })
}

fn secure_headers() -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(path: &str) -> Response {
        let request = Request::builder()
            .uri(path)
            .body(Body::empty())
            .expect("request");
        serve(&request)
    }

    async fn text(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        String::from_utf8(bytes.to_vec()).expect("utf-8")
    }

    #[test]
    fn the_s3_endpoint_is_added_to_connect_src() {
        let connect = |endpoint: Option<&str>| {
            let policy = content_security_policy(endpoint);
            let directive = policy.split(';').find(|d| d.contains("connect-src"));
            directive.expect("connect-src").trim().to_owned()
        };
        assert_eq!(connect(None), "connect-src 'self'");
        assert_eq!(
            connect(Some("http://127.0.0.1:9000")),
            "connect-src 'self' http://127.0.0.1:9000"
        );
        assert_eq!(
            connect(Some("https://s3.example.com/base")),
            "connect-src 'self' https://s3.example.com"
        );
        assert_eq!(
            connect(Some("http://0.0.0.0:9000")),
            "connect-src 'self' http://*:9000"
        );
        assert_eq!(
            connect(Some("http://[::]:9000")),
            "connect-src 'self' http://*:9000"
        );
        assert_eq!(
            connect(Some("http://[::1]")),
            "connect-src 'self' http://[::1]"
        );
        assert_eq!(
            connect(Some("http://a; script-src *")),
            "connect-src 'self'"
        );
    }

    #[tokio::test]
    async fn client_routes_get_index_html_with_the_security_headers() {
        let root = get("/");
        assert_eq!(root.status(), StatusCode::OK);
        let headers = root.headers().clone();
        assert_eq!(headers[header::CACHE_CONTROL], REVALIDATE);
        assert_eq!(
            headers[header::CONTENT_SECURITY_POLICY],
            CONTENT_SECURITY_POLICY
        );
        assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(
            headers[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        let index = text(root).await;
        assert_eq!(text(get("/buckets/photos")).await, index);
        assert_eq!(text(get("/audit?page=2")).await, index);
    }

    #[tokio::test]
    async fn api_paths_and_other_methods_keep_the_json_404() {
        for path in ["/api/v1/no-such-route", "/api", "/api/"] {
            let response = get(path);
            assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
            assert!(text(response).await.contains("\"NotFound\""), "{path}");
        }
        let post = Request::builder()
            .method(Method::POST)
            .uri("/")
            .body(Body::empty())
            .expect("request");
        assert_eq!(serve(&post).status(), StatusCode::NOT_FOUND);
    }

    #[tokio::test]
    async fn a_missing_hashed_file_is_not_answered_with_html() {
        let response = get("/assets/index-00000000.js");
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert!(response.headers().get(header::CACHE_CONTROL).is_none());
    }

    #[test]
    fn gzip_is_sent_only_to_clients_that_accept_it() {
        let accepts = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(value).unwrap(),
            );
            accepts_gzip(&headers)
        };
        assert!(accepts("gzip, deflate, br"));
        assert!(accepts("br;q=1.0, GZIP;q=0.5"));
        assert!(!accepts("gzip;q=0"));
        assert!(!accepts("br, deflate"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }
}
