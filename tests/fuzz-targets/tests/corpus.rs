//! Replays every committed corpus file (`fuzz/corpus/<target>/*`, crash reproducers included)
//! through its target on stable, in the normal test suite: an input that once crashed a
//! parser stays fixed, and every seed still passes the targets' property checks. The fuzz
//! binaries themselves need nightly (fuzz/run.sh).

use std::path::{Path, PathBuf};

use fuzz_targets::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("{}: {error}", dir.display()))
        .map(|entry| entry.expect("readable directory entry").path())
        .collect();
    entries.sort();
    entries
}

#[test]
fn every_corpus_file_passes_its_target() {
    let corpus = fuzz_dir().join("corpus");
    let mut failures = Vec::new();
    for (name, target) in TARGETS {
        let files = sorted_entries(&corpus.join(name));
        assert!(!files.is_empty(), "{name}: no seed in its corpus");
        for file in files {
            let data = std::fs::read(&file).expect("readable corpus file");
            // Caught so that one failing file does not hide the others; the panic message
            // is printed by the hook as usual.
            if std::panic::catch_unwind(|| target(&data)).is_err() {
                failures.push(file.display().to_string());
            }
        }
    }
    assert!(failures.is_empty(), "inputs that fail: {failures:#?}");
}

/// Every corpus folder belongs to a target, and every target has a libFuzzer binary that
/// calls it and is declared in fuzz/Cargo.toml: the list in lib.rs is the one list.
#[test]
fn corpus_folders_binaries_and_targets_match() {
    let fuzz = fuzz_dir();
    let names: Vec<&str> = TARGETS.iter().map(|(name, _)| *name).collect();
    for folder in sorted_entries(&fuzz.join("corpus")) {
        let folder_name = folder
            .file_name()
            .expect("named")
            .to_string_lossy()
            .into_owned();
        assert!(
            names.contains(&folder_name.as_str()),
            "corpus/{folder_name}: no such target"
        );
    }
    let manifest = std::fs::read_to_string(fuzz.join("Cargo.toml")).expect("fuzz/Cargo.toml");
    let binaries = sorted_entries(&fuzz.join("fuzz_targets"));
    assert_eq!(binaries.len(), names.len(), "{binaries:?}");
    for name in names {
        let source = std::fs::read_to_string(fuzz.join(format!("fuzz_targets/{name}.rs")))
            .unwrap_or_else(|error| panic!("fuzz_targets/{name}.rs: {error}"));
        assert!(
            source.contains(&format!("fuzz_targets::run(\"{name}\"")),
            "{name}"
        );
        assert!(manifest.contains(&format!("name = \"{name}\"")), "{name}");
    }
}

/// The signed seeds verify with the targets' key and clock, so the fuzzer starts from
/// requests that reach canonicalisation and the body decoders, not from ones refused at the
/// first check. Regenerate them with fuzz/make_seeds.py if the key or clock changes.
#[test]
fn signed_seeds_verify() {
    use fuzz_targets::auth::{NOW_UNIX_SECS, OneKey, REGION};
    use s3_proto::sigv4::{AuthContext, Authenticated, SignedRequest, SigningKeyCache};

    let context = AuthContext {
        region: REGION,
        now_unix_secs: NOW_UNIX_SECS,
    };
    let seeds = [
        ("sigv4", "seed-resign-boto3-put-object"),
        ("sigv4", "seed-resign-boto3-list-objects-v2"),
        ("sigv4", "seed-resign-sdk-rust-list"),
        ("sigv4", "seed-resign-aws-doc-get-object"),
        ("sigv4", "seed-resign-streaming-signed"),
        ("sigv4", "seed-resign-boto3-https-unsigned-trailer"),
        ("sigv4", "seed-resign-presigned-get"),
        ("sigv4", "seed-v2-header"),
        ("sigv4", "seed-v2-amz-headers"),
        ("sigv4", "seed-v2-presigned"),
    ];
    for (target, name) in seeds {
        let data = std::fs::read(fuzz_dir().join(format!("corpus/{target}/{name}")))
            .expect("seed present");
        let head = frontend::request::parse_head(&data[1..])
            .expect("parses")
            .expect("complete");
        let headers: Vec<(&str, &[u8])> = head
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), &v[..]))
            .collect();
        let request = SignedRequest {
            method: &head.method,
            raw_path: &head.raw_path,
            raw_query: &head.raw_query,
            headers: &headers,
        };
        let result = s3_proto::sigv4::authenticate_for_host(
            &request,
            &context,
            None,
            &OneKey,
            &mut SigningKeyCache::new(),
        );
        assert!(
            matches!(result, Ok(Authenticated::Signed { .. })),
            "{name}: {result:?}"
        );
    }
}
