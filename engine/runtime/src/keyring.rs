//! The data plane's master keys (KEKs, `sse::master`): where they come from at start, and
//! how a rotation reaches every shard.
//!
//! Sources, first match wins: `--master-key-file PATH` (must exist, in `MasterKeys`' format),
//! else `<data-dir>/master-keys`, created at first start from `MAXIOFS_MASTER_KEY` (base64 of
//! 32 bytes, version 1) or at random. The file is written with mode 0600. Each shard holds
//! its own `Rc` of the keyring in `ShardContext::master_keys`; a rotation replaces it whole.

use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};

use sse::master::MasterKeys;

/// Name of the keyring file in the data directory when no `--master-key-file` is given.
pub const MASTER_KEYS_FILE_NAME: &str = "master-keys";

/// Where the keyring comes from (the command line and environment, resolved).
#[derive(Clone, Debug, Default)]
pub struct KeySource {
    /// An operator-provided keyring file; rotations rewrite it in place.
    pub key_file: Option<PathBuf>,
    /// `MAXIOFS_MASTER_KEY`: version 1, checked against the file when the file exists.
    pub first_key: Option<String>,
}

/// Loads (or creates) the keyring; returns it with the path a rotation must rewrite.
pub fn load(data_dir: &Path, source: &KeySource) -> Result<(MasterKeys, PathBuf), String> {
    let first_key = source
        .first_key
        .as_deref()
        .map(str::trim)
        .filter(|key| !key.is_empty());
    let path = match &source.key_file {
        Some(path) => {
            // An operator's file that is missing is a mistake (a wrong path or an unmounted
            // secret), not a reason to invent new keys that no backup holds.
            if !path.exists() {
                return Err(format!("master key file {} does not exist", path.display()));
            }
            path.clone()
        }
        None => data_dir.join(MASTER_KEYS_FILE_NAME),
    };
    let keys = MasterKeys::load_or_create(&path, first_key)
        .map_err(|error| format!("master keys ({}): {error}", path.display()))?;
    warn_if_readable_by_others(&path);
    Ok((keys, path))
}

/// The keys open every SSE-S3 object: a file others can read is worth a loud warning, but
/// not a refusal to start (the operator may have reasons, such as a group-readable mount).
fn warn_if_readable_by_others(path: &Path) {
    if let Ok(metadata) = std::fs::metadata(path) {
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            tracing::warn!(
                path = %path.display(),
                mode = format!("{mode:o}"),
                "the master key file is readable by other users; chmod 600 it"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;

    use super::*;

    fn encoded(byte: u8) -> String {
        base64::engine::general_purpose::STANDARD.encode([byte; 32])
    }

    #[test]
    fn generated_at_first_start_in_the_data_dir_then_reloaded() {
        let dir = tempfile::tempdir().unwrap();
        let (first, path) = load(dir.path(), &KeySource::default()).unwrap();
        assert_eq!(path, dir.path().join(MASTER_KEYS_FILE_NAME));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let (again, _) = load(dir.path(), &KeySource::default()).unwrap();
        assert_eq!(again.current(), first.current());
    }

    #[test]
    fn the_environment_key_becomes_version_one_and_must_keep_agreeing() {
        let dir = tempfile::tempdir().unwrap();
        let source = KeySource {
            key_file: None,
            first_key: Some(encoded(7)),
        };
        let (keys, _) = load(dir.path(), &source).unwrap();
        assert_eq!(keys.current(), (1, &[7u8; 32]));
        let other = KeySource {
            key_file: None,
            first_key: Some(encoded(8)),
        };
        assert!(load(dir.path(), &other).is_err());
        let blank = KeySource {
            key_file: None,
            first_key: Some("  ".to_owned()),
        };
        assert_eq!(load(dir.path(), &blank).unwrap().0.current().0, 1);
    }

    #[test]
    fn an_operator_key_file_is_used_and_never_invented() {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("elsewhere");
        let source = KeySource {
            key_file: Some(key_file.clone()),
            first_key: None,
        };
        assert!(load(dir.path(), &source).is_err());
        let mut keys = MasterKeys::generate();
        keys.rotate();
        keys.store(&key_file).unwrap();
        let (loaded, path) = load(dir.path(), &source).unwrap();
        assert_eq!(path, key_file);
        assert_eq!(loaded.current(), keys.current());
        assert!(!dir.path().join(MASTER_KEYS_FILE_NAME).exists());
    }
}
