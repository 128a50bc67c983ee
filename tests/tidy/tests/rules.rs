//! The architecture invariants of ARCHITECTURE.md, checked.

use std::collections::BTreeMap;

use tidy::{members, rust_files, workspace_root};

/// Who may depend on whom (ARCHITECTURE.md, "Dependency direction"). Tests and tools are
/// listed with `*`: they may use anything, and nothing may use them.
const ALLOWED_EDGES: &[(&str, &[&str])] = &[
    ("base", &[]),
    ("shard", &["base", "sse"]),
    ("telemetry", &[]),
    ("control", &[]),
    ("sse", &[]),
    ("tls", &[]),
    (
        "runtime",
        // policy: each shard keeps its buckets' policies and its identities' policies
        // compiled next to their records.
        &[
            "base",
            "shard",
            "telemetry",
            "control",
            "sse",
            "tls",
            "policy",
        ],
    ),
    ("s3-proto", &["base"]),
    // The access-policy language: pure, like s3-proto.
    ("policy", &[]),
    (
        "frontend",
        &[
            "base",
            "s3-proto",
            "shard",
            "runtime",
            "telemetry",
            "sse",
            "control",
            "tls",
            "policy",
        ],
    ),
    ("admin", &["control", "tls", "policy", "s3-proto"]),
    (
        "maxiofs",
        &[
            "base", "shard", "runtime", "s3-proto", "frontend", "admin", "control", "sse", "tls",
        ],
    ),
    ("it", &["*"]),
    ("tidy", &["*"]),
    // The fuzz targets' bodies, replayed over the committed corpus by `cargo test`.
    ("fuzz-targets", &["*"]),
    // Benchmarks and the load generator (bench/, bench/loadgen): tools, like tests.
    ("bench", &["*"]),
    ("loadgen", &["*"]),
];

#[test]
fn dependency_direction_follows_the_layer_table() {
    let root = workspace_root();
    let members = members(&root);
    let names: Vec<&str> = members.iter().map(|member| member.name.as_str()).collect();
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED_EDGES.iter().copied().collect();
    let mut violations = Vec::new();
    for member in &members {
        let Some(edges) = allowed.get(member.name.as_str()) else {
            violations.push(format!(
                "{}: not in the layer table (add it, with ARCHITECTURE.md)",
                member.name
            ));
            continue;
        };
        for dependency in &member.dependencies {
            let internal = names.contains(&dependency.as_str());
            if internal && !edges.contains(&"*") && !edges.contains(&dependency.as_str()) {
                violations.push(format!("{} -> {dependency}: edge not allowed", member.name));
            }
            if internal
                && allowed
                    .get(dependency.as_str())
                    .is_some_and(|e| e.contains(&"*"))
            {
                violations.push(format!(
                    "{} -> {dependency}: nothing may depend on a test crate",
                    member.name
                ));
            }
        }
    }
    assert!(violations.is_empty(), "{violations:#?}");
    assert!(members.len() >= 6, "members not found: {members:?}");
}

/// Folders whose crate has another name, on purpose: `admin-api/` says what the folder holds
/// next to `console/`, while the crate is `admin` (`maxiofs admin`).
const FOLDER_NAME_EXCEPTIONS: &[(&str, &str)] = &[("admin-api", "admin")];

#[test]
fn folder_name_is_crate_name() {
    for member in members(&workspace_root()) {
        let folder = member
            .dir
            .file_name()
            .map(|name| name.to_string_lossy().into_owned());
        // The crate name the folder calls for.
        let expected = FOLDER_NAME_EXCEPTIONS
            .iter()
            .find(|(folder_name, _)| folder.as_deref() == Some(*folder_name))
            .map(|(_, crate_name)| (*crate_name).to_owned())
            .or(folder);
        assert_eq!(
            expected.as_deref(),
            Some(member.name.as_str()),
            "{}",
            member.dir.display()
        );
    }
}

#[test]
fn lines_fit_in_100_columns() {
    let root = workspace_root();
    let mut long = Vec::new();
    for file in rust_files(&root) {
        let text = std::fs::read_to_string(&file).expect("readable source");
        for (index, line) in text.lines().enumerate() {
            if line.chars().count() > 100 {
                long.push(format!(
                    "{}:{}",
                    file.strip_prefix(&root).unwrap_or(&file).display(),
                    index + 1
                ));
            }
        }
    }
    assert!(
        long.is_empty(),
        "lines over 100 columns:\n{}",
        long.join("\n")
    );
}

#[test]
fn no_banned_tokens() {
    // Debug leftovers and unbounded queues (every queue has a limit).
    let banned = [
        concat!("dbg", "!("),
        concat!("todo", "!("),
        concat!("unimplemented", "!("),
        concat!("flume::", "unbounded"),
    ];
    let root = workspace_root();
    let mut found = Vec::new();
    for file in rust_files(&root) {
        let text = std::fs::read_to_string(&file).expect("readable source");
        for token in banned {
            if text.contains(token) {
                found.push(format!(
                    "{}: {token}",
                    file.strip_prefix(&root).unwrap_or(&file).display()
                ));
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}

/// The front end's layers (ARCHITECTURE.md, "The S3 front end"): handlers use the request
/// vocabulary (`exchange`, `auth`, `response`, ...) and never the switchboard that calls them
/// (`dispatch` routes, `serve` runs the connection loop), so the import graph has no loop
/// through the handlers.
#[test]
fn handlers_do_not_import_the_switchboard() {
    let root = workspace_root();
    let handlers = root.join("http-frontend/frontend/src/handlers");
    let mut files: Vec<_> = rust_files(&root)
        .into_iter()
        .filter(|file| file.starts_with(&handlers))
        .collect();
    files.push(root.join("http-frontend/frontend/src/handlers.rs"));
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).expect("readable source");
        for token in [
            "crate::dispatch",
            "crate::serve",
            "super::dispatch",
            "super::serve",
        ] {
            if text.contains(token) {
                found.push(format!(
                    "{}: {token}",
                    file.strip_prefix(&root).unwrap_or(file).display()
                ));
            }
        }
    }
    assert!(
        files.len() > 10,
        "handler files not found under {}",
        handlers.display()
    );
    assert!(found.is_empty(), "{found:#?}");
}

/// Response heads are written in one place, `response.rs`, whose writer refuses every header
/// name that is not a token and every value with a control character (header injection,
/// security issue 14). A status line spelled anywhere else in the front end would be a head
/// that bypasses it.
#[test]
fn status_lines_are_written_only_by_response_rs() {
    let root = workspace_root();
    let frontend = root.join("http-frontend/frontend/src");
    let writer = frontend.join("response.rs");
    let mut found = Vec::new();
    let mut scanned = 0;
    for file in rust_files(&root) {
        if !file.starts_with(&frontend) || file == writer || file.ends_with("tests.rs") {
            continue;
        }
        scanned += 1;
        let text = std::fs::read_to_string(&file).expect("readable source");
        // `HTTP/1.1 ` followed by a status code or a format argument starts a status line;
        // request lines in tests end in `HTTP/1.1\r\n`.
        let status_line = text.match_indices("HTTP/1.1 ").any(|(at, token)| {
            text[at + token.len()..]
                .chars()
                .next()
                .is_some_and(|next| next.is_ascii_digit() || next == '{')
        });
        if status_line {
            found.push(
                file.strip_prefix(&root)
                    .unwrap_or(&file)
                    .display()
                    .to_string(),
            );
        }
    }
    assert!(
        scanned > 10,
        "front-end files not found under {}",
        frontend.display()
    );
    assert!(
        found.is_empty(),
        "status lines outside response.rs: {found:#?}"
    );
}
