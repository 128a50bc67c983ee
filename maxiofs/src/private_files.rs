//! Data and admin directories are private to the user that runs MaxIOFS: directories 0700,
//! files 0600. Object bytes of unencrypted objects, metadata, keys and credentials are in
//! there; nothing in them is for another local user to read.
//!
//! Two mechanisms: every command runs under umask 077, so whatever it creates is private
//! whatever the caller's umask; and a start walks the directory it is given and takes
//! group and other permissions away from anything an older version (or an operator's `cp`)
//! left readable, with a warning that says how many entries it fixed.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Most entries a start walks; a data directory holds partitions x (segments + SQLite files),
/// far below this. Past it the walk stops with a warning rather than delaying the start.
const ENTRY_COUNT_MAX: usize = 1_000_000;
/// Deepest directory nesting walked (the layout is three levels deep).
const DEPTH_MAX: usize = 8;

/// Permission bits for group and other.
const GROUP_OTHER_MASK: u32 = 0o077;

/// Sets the process umask so that every file and directory created from now on (by this
/// process and the children it starts) is private.
pub fn restrict_umask() {
    // SAFETY: umask only changes this process's file mode creation mask; it cannot fail.
    #[allow(unsafe_code)]
    unsafe {
        libc::umask(0o077);
    }
}

/// What `secure_tree` found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tightened {
    pub entries_checked: usize,
    pub entries_fixed: usize,
}

/// Removes group and other permissions from `root` and everything below it (symbolic links
/// are neither followed nor changed), creating `root` (0700) if it does not exist.
pub fn secure_tree(root: &Path) -> std::io::Result<Tightened> {
    std::fs::create_dir_all(root)?;
    let mut tightened = Tightened::default();
    // An explicit stack instead of recursion: bounded by DEPTH_MAX and ENTRY_COUNT_MAX.
    let mut pending = vec![(root.to_path_buf(), 0_usize)];
    while let Some((path, depth)) = pending.pop() {
        if tightened.entries_checked >= ENTRY_COUNT_MAX {
            tracing::warn!(
                root = %root.display(),
                "more than {ENTRY_COUNT_MAX} entries: permission check stopped early"
            );
            break;
        }
        tightened.entries_checked += 1;
        let metadata = std::fs::symlink_metadata(&path)?;
        if metadata.file_type().is_symlink() {
            continue;
        }
        let mode = metadata.permissions().mode();
        if mode & GROUP_OTHER_MASK != 0 {
            let private = mode & !GROUP_OTHER_MASK & 0o7777;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(private))?;
            tightened.entries_fixed += 1;
        }
        if metadata.is_dir() && depth < DEPTH_MAX {
            for entry in std::fs::read_dir(&path)? {
                pending.push((entry?.path(), depth + 1));
            }
        }
    }
    if tightened.entries_fixed > 0 {
        tracing::warn!(
            root = %root.display(),
            fixed = tightened.entries_fixed,
            "files or directories were readable by other users: group and other permissions \
             removed"
        );
    }
    Ok(tightened)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_tree_becomes_private_and_symlinks_are_left_alone() {
        let root = std::env::temp_dir().join(format!("maxiofs-private-{}", std::process::id()));
        let nested = root.join("p0/segments");
        std::fs::create_dir_all(&nested).unwrap();
        std::fs::set_permissions(&root, std::fs::Permissions::from_mode(0o755)).unwrap();
        let file = nested.join("seg-1");
        std::fs::write(&file, b"plaintext").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let outside = std::env::temp_dir().join(format!("maxiofs-outside-{}", std::process::id()));
        std::fs::write(&outside, b"not ours").unwrap();
        std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("link")).unwrap();

        let first = secure_tree(&root).unwrap();
        assert!(first.entries_fixed >= 2, "{first:?}");
        let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&root), 0o700);
        assert_eq!(mode(&file), 0o600);
        assert_eq!(
            mode(&outside),
            0o644,
            "a symlink's target is not ours to change"
        );
        let second = secure_tree(&root).unwrap();
        assert_eq!(second.entries_fixed, 0);
        assert_eq!(second.entries_checked, first.entries_checked);

        std::fs::remove_dir_all(&root).unwrap();
        std::fs::remove_file(&outside).unwrap();
    }
}
