//! Master keys (KEKs): numbered versions, one of them current. New data keys are wrapped with
//! the current version; older versions stay to unwrap keys not yet re-wrapped.
//!
//! Stored as a small text file, mode 0600, written atomically (temporary file, fsync, rename,
//! fsync of the directory):
//!
//! ```text
//! # MaxIOFS master keys. Losing this file loses every SSE-S3 object: keep a copy offline.
//! format 1
//! current 2
//! key 1 <base64 of 32 bytes>
//! key 2 <base64 of 32 bytes>
//! ```
//!
//! The first version may come from the environment (`MAXIOFS_MASTER_KEY`, base64 of 32
//! bytes) so that an operator keeps it in a secret store; the file then records it too, and a
//! later start checks that both agree.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::SseError;

#[derive(Clone)]
pub struct MasterKeys {
    versions: BTreeMap<u32, [u8; 32]>,
    current: u32,
}

impl std::fmt::Debug for MasterKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "MasterKeys(current {}, {} versions)",
            self.current,
            self.versions.len()
        )
    }
}

impl MasterKeys {
    /// A keyring with one random version.
    pub fn generate() -> Self {
        Self::from_first(rand::random())
    }

    fn from_first(key: [u8; 32]) -> Self {
        MasterKeys {
            versions: BTreeMap::from([(1, key)]),
            current: 1,
        }
    }

    pub fn current(&self) -> (u32, &[u8; 32]) {
        (self.current, &self.versions[&self.current])
    }

    pub fn get(&self, version: u32) -> Option<&[u8; 32]> {
        self.versions.get(&version)
    }

    pub fn versions(&self) -> impl Iterator<Item = u32> + '_ {
        self.versions.keys().copied()
    }

    /// Adds a new random version and makes it current; returns its number.
    pub fn rotate(&mut self) -> u32 {
        let next = self.versions.keys().next_back().map_or(1, |last| last + 1);
        self.versions.insert(next, rand::random());
        self.current = next;
        next
    }

    pub fn encode(&self) -> String {
        let mut text = String::from(
            "# MaxIOFS master keys. Losing this file loses every SSE-S3 object: keep a copy \
             offline.\nformat 1\n",
        );
        // Writing into a String cannot fail.
        let _ = writeln!(text, "current {}", self.current);
        for (version, key) in &self.versions {
            let _ = writeln!(text, "key {version} {}", BASE64.encode(key));
        }
        text
    }

    pub fn decode(text: &str) -> Result<Self, SseError> {
        let mut versions = BTreeMap::new();
        let mut current = None;
        let mut format = None;
        for line in text.lines().map(str::trim) {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let fields: Vec<&str> = line.split_ascii_whitespace().collect();
            match fields.as_slice() {
                ["format", "1"] => format = Some(1),
                ["current", version] => {
                    current = Some(version.parse().map_err(|_| SseError::Format("current"))?);
                }
                ["key", version, key] => {
                    let version: u32 = version.parse().map_err(|_| SseError::Format("version"))?;
                    let key = decode_key(key)?;
                    if versions.insert(version, key).is_some() {
                        return Err(SseError::Format("duplicate key version"));
                    }
                }
                _ => return Err(SseError::Format("master key file line")),
            }
        }
        let current = current.ok_or(SseError::Format("no current version"))?;
        if format != Some(1) || !versions.contains_key(&current) {
            return Err(SseError::Format("master key file"));
        }
        Ok(MasterKeys { versions, current })
    }

    /// Loads the keyring at `path`, or creates it (from `first_key` when given, else random).
    /// A `first_key` that disagrees with version 1 of an existing file is refused.
    pub fn load_or_create(path: &Path, first_key: Option<&str>) -> Result<Self, SseError> {
        let first_key = first_key.map(decode_key).transpose()?;
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let keys = Self::decode(&text)?;
                if let Some(first) = first_key
                    && keys.get(1) != Some(&first)
                {
                    return Err(SseError::Format(
                        "MAXIOFS_MASTER_KEY differs from version 1 of the master key file",
                    ));
                }
                Ok(keys)
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let keys = first_key.map_or_else(Self::generate, Self::from_first);
                keys.store(path)?;
                Ok(keys)
            }
            Err(error) => Err(SseError::Io(format!("{}: {error}", path.display()))),
        }
    }

    /// Writes the keyring durably and atomically, readable by the owner only.
    pub fn store(&self, path: &Path) -> Result<(), SseError> {
        let io = |error: std::io::Error| SseError::Io(format!("{}: {error}", path.display()));
        let temporary = path.with_extension("tmp");
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temporary)
            .map_err(io)?;
        file.write_all(self.encode().as_bytes()).map_err(io)?;
        file.sync_all().map_err(io)?;
        std::fs::rename(&temporary, path).map_err(io)?;
        let directory = path
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty());
        std::fs::File::open(directory.unwrap_or(Path::new(".")))
            .and_then(|directory| directory.sync_all())
            .map_err(io)
    }
}

fn decode_key(text: &str) -> Result<[u8; 32], SseError> {
    BASE64
        .decode(text.trim())
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes.as_slice()).ok())
        .ok_or(SseError::Format("master key: base64 of 32 bytes expected"))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt as _;

    use super::*;

    #[test]
    fn the_file_round_trips_with_every_version() {
        let mut keys = MasterKeys::generate();
        keys.rotate();
        keys.rotate();
        let back = MasterKeys::decode(&keys.encode()).unwrap();
        assert_eq!(back.current().0, 3);
        assert_eq!(back.versions().collect::<Vec<_>>(), vec![1, 2, 3]);
        for version in 1..=3 {
            assert_eq!(back.get(version), keys.get(version));
        }
    }

    #[test]
    fn created_once_owner_only_and_checked_against_the_environment() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master-keys");
        let env_key = BASE64.encode([9u8; 32]);
        let created = MasterKeys::load_or_create(&path, Some(&env_key)).unwrap();
        assert_eq!(created.get(1), Some(&[9u8; 32]));
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let loaded = MasterKeys::load_or_create(&path, None).unwrap();
        assert_eq!(loaded.get(1), Some(&[9u8; 32]));
        let other = BASE64.encode([1u8; 32]);
        assert!(MasterKeys::load_or_create(&path, Some(&other)).is_err());
        assert!(MasterKeys::load_or_create(&path, Some("not base64!")).is_err());
    }

    #[test]
    fn malformed_files_are_refused() {
        for text in [
            "",
            "format 1\ncurrent 2\nkey 1 AAAA\n",
            "format 2\ncurrent 1\n",
            "junk",
        ] {
            assert!(MasterKeys::decode(text).is_err(), "{text:?}");
        }
    }
}
