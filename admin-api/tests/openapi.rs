//! docs/api/openapi.json documents exactly the routes the router serves: the same set of
//! (method, path), every route of the table has a handler, and the router builds (axum panics
//! on a route registered twice).

use std::collections::BTreeSet;
use std::sync::Arc;

use admin::routes::ROUTES;

fn documented() -> BTreeSet<(String, String)> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/api/openapi.json");
    let text = std::fs::read_to_string(&path).expect("docs/api/openapi.json is readable");
    let document: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    assert!(
        document["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with('3')),
        "an OpenAPI 3 document"
    );
    let mut routes = BTreeSet::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            if ["get", "put", "post", "delete", "patch", "head", "options"]
                .contains(&method.as_str())
            {
                routes.insert((method.to_ascii_uppercase(), path.clone()));
            }
        }
    }
    routes
}

#[test]
fn the_document_lists_exactly_the_served_routes() {
    let served: BTreeSet<(String, String)> = ROUTES
        .iter()
        .map(|route| (route.method.to_owned(), route.path.to_owned()))
        .collect();
    assert_eq!(
        served.len(),
        ROUTES.len(),
        "a route is listed twice in the table"
    );
    let documented = documented();
    let undocumented: Vec<_> = served.difference(&documented).collect();
    let unserved: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty(),
        "served but not documented: {undocumented:?}"
    );
    assert!(
        unserved.is_empty(),
        "documented but not served: {unserved:?}"
    );
}

#[test]
fn every_route_has_a_handler_and_the_router_builds() {
    for route in ROUTES {
        assert!(
            admin::http::endpoint(route).is_some(),
            "{} {} has no handler",
            route.method,
            route.path
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let store = admin::store::Store::open(&dir.path().join("admin.db")).unwrap();
    let link = admin::link::Link::new(dir.path().join("control.sock"));
    let root = admin::RootIdentity {
        user: "root".into(),
        secret: "root-secret".into(),
    };
    let app = Arc::new(admin::app::App::new(store, link, root).unwrap());
    let _router = admin::http::router(app);
}
