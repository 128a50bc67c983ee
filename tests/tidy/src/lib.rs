//! Repository rules as tests: the dependency direction between crates, folder names, line
//! length and banned tokens. Run with `cargo test -p tidy`; no dependencies, no IO outside the
//! repository.

use std::path::{Path, PathBuf};

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("workspace root")
}

/// A workspace member: its folder and the package name its manifest declares.
#[derive(Debug, Clone)]
pub struct Member {
    pub dir: PathBuf,
    pub name: String,
    /// Names of the crates listed under `[dependencies]` (not dev- or build-dependencies).
    pub dependencies: Vec<String>,
}

/// The `members` of the root manifest, read without a TOML parser: the list is ours and simple.
pub fn members(root: &Path) -> Vec<Member> {
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).expect("root Cargo.toml");
    let start = manifest.find("members = [").expect("members list");
    let end = start + manifest[start..].find(']').expect("end of members");
    manifest[start..end]
        .lines()
        .filter_map(|line| {
            line.trim()
                .strip_prefix('"')?
                .split('"')
                .next()
                .map(str::to_owned)
        })
        .map(|relative| read_member(&root.join(relative)))
        .collect()
}

fn read_member(dir: &Path) -> Member {
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("member Cargo.toml");
    let mut section = String::new();
    let mut name = String::new();
    let mut dependencies = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            line.trim_matches(['[', ']']).clone_into(&mut section);
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key.trim();
        if section == "package" && key == "name" {
            value.trim().trim_matches('"').clone_into(&mut name);
        }
        if section == "dependencies" && !key.is_empty() {
            dependencies.push(key.split('.').next().unwrap_or(key).to_owned());
        }
    }
    Member {
        dir: dir.to_path_buf(),
        name,
        dependencies,
    }
}

/// Every `.rs` file under `dir`, skipping build output.
pub fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&next) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if path.is_dir() {
                if !name.starts_with("target") && !name.starts_with('.') && name != "node_modules" {
                    pending.push(path);
                }
            } else if name.ends_with(".rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}
