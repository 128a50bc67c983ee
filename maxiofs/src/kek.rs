//! `maxiofs kek rotate|status`: master key management of a running data plane, through its
//! control socket (`<data-dir>/control.sock`, owner only), like the admin's API does.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Duration;

use control::wire::{Client, EncryptionStatus, Request, Response};

/// A rotation stores the key file and reaches every shard; the status scans every partition.
const CALL_TIMEOUT: Duration = Duration::from_mins(1);

#[derive(clap::Args)]
pub struct KekArgs {
    #[command(subcommand)]
    command: KekCommand,
}

#[derive(clap::Subcommand)]
enum KekCommand {
    /// Add a master key version and make it current; stored data keys are re-wrapped in the
    /// background (back up the master key file afterwards).
    Rotate(Target),
    /// The master key versions and how many data keys each one still wraps.
    Status(Target),
}

#[derive(clap::Args)]
struct Target {
    /// The running server's data directory (its control socket is there).
    #[arg(long, env = "MAXIOFS_DATA_DIR")]
    data_dir: PathBuf,
}

pub fn run(args: &KekArgs) -> Result<(), Box<dyn std::error::Error>> {
    let (target, request) = match &args.command {
        KekCommand::Rotate(target) => (target, Request::RotateMasterKey),
        KekCommand::Status(target) => (target, Request::EncryptionStatus),
    };
    let socket = target.data_dir.join(control::SOCKET_FILE_NAME);
    let mut client = Client::connect(&socket, CALL_TIMEOUT).map_err(|error| {
        format!(
            "cannot reach the server's control socket {} ({error}); is `maxiofs server` running \
             on this data directory?",
            socket.display()
        )
    })?;
    match client.call(&request)? {
        Response::Encryption(status) => {
            if matches!(request, Request::RotateMasterKey) {
                println!(
                    "rotated: master key version {} is current",
                    status.current_version
                );
            }
            print!("{}", describe(&status));
            Ok(())
        }
        Response::Error { code, message } => Err(format!("{code}: {message}").into()),
        other => Err(format!("unexpected answer from the server: {other:?}").into()),
    }
}

/// The status as `key: value` lines, for people and for scripts alike.
fn describe(status: &EncryptionStatus) -> String {
    let versions: Vec<String> = status.versions.iter().map(u32::to_string).collect();
    let mut text = format!(
        "current version: {}\nversions: {}\n",
        status.current_version,
        versions.join(" ")
    );
    for entry in &status.data_keys_by_version {
        // Writing into a String cannot fail.
        let _ = writeln!(
            text,
            "data keys wrapped by version {}: {}",
            entry.version, entry.data_keys
        );
    }
    let _ = writeln!(
        text,
        "data keys on old versions: {}{}",
        status.data_keys_on_old_versions,
        if status.data_keys_on_old_versions == 0 {
            ""
        } else {
            " (re-wrap in progress)"
        }
    );
    text
}

#[cfg(test)]
mod tests {
    use control::wire::VersionDataKeys;

    use super::*;

    #[test]
    fn the_status_reads_as_lines() {
        let status = EncryptionStatus {
            current_version: 2,
            versions: vec![1, 2],
            data_keys_by_version: vec![VersionDataKeys {
                version: 1,
                data_keys: 3,
            }],
            data_keys_on_old_versions: 3,
        };
        assert_eq!(
            describe(&status),
            "current version: 2\nversions: 1 2\ndata keys wrapped by version 1: 3\n\
             data keys on old versions: 3 (re-wrap in progress)\n"
        );
    }
}
