//! Picks the folder the console's assets are embedded from (`src/console.rs`): `console/dist`
//! when `scripts/build-console.sh` has built it, else a placeholder page, so the crate compiles
//! on a machine without Node (the placeholder says how to build the console).

use std::path::{Path, PathBuf};

const PLACEHOLDER: &str = "<!doctype html>
<html lang=\"en\"><head><meta charset=\"utf-8\"><title>MaxIOFS console</title></head>
<body><h1>MaxIOFS</h1>
<p>console not built: run scripts/build-console.sh, then rebuild maxiofs.</p>
<p>The console API answers under <a href=\"/api/v1/\">/api/v1/</a>.</p></body></html>
";

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("manifest dir"));
    let console = manifest.join("../console");
    let dist = console.join("dist");
    println!("cargo:rerun-if-env-changed=MAXIOFS_CONSOLE_DIST");
    let folder = match std::env::var_os("MAXIOFS_CONSOLE_DIST") {
        Some(folder) => PathBuf::from(folder),
        None if dist.join("index.html").is_file() => {
            // A directory is scanned whole by cargo: a rebuilt console (new hashed names)
            // re-runs this script and so re-embeds.
            println!("cargo:rerun-if-changed={}", dist.display());
            dist
        }
        None => {
            // No build yet: watch the console folder (sources only, no node_modules then) so
            // that the first build of the console is noticed.
            println!("cargo:rerun-if-changed={}", console.display());
            placeholder()
        }
    };
    println!("cargo:rustc-env=MAXIOFS_CONSOLE_DIST={}", folder.display());
}

fn placeholder() -> PathBuf {
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("OUT_DIR"));
    let folder = out.join("console-placeholder");
    std::fs::create_dir_all(&folder).expect("placeholder folder");
    write_if_changed(&folder.join("index.html"), PLACEHOLDER);
    folder
}

fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text).expect("placeholder page");
    }
}
