//! The two channels between `maxiofs admin` and the data plane (DESIGN.md §1), as data types
//! and a wire format that both processes share. No IO beyond a blocking Unix-socket client.
//!
//! - The **control channel** (admin → data plane): identity and settings snapshots, bucket
//!   management and configuration (`buckets`) and event-log reads, as request/response
//!   frames on a Unix socket that the data plane listens on (`<data-dir>/control.sock`, mode
//!   0600). See `wire`.
//! - The **event log** (data plane → admin): durable, per-partition, sequence-numbered records
//!   of object and bucket events (`events`), read by the admin through the control channel.
//!   Each consumer (audit, replication, webhooks, usage) keeps its own cursor per partition.
//! - **Sealing** (`sealing`): the format both processes store secrets in at rest, under keys
//!   the data plane derives from its master keys.
//!
//! The protocol is versioned by `PROTOCOL_VERSION`; the first frame on a connection is a
//! `Request::Hello` and the data plane refuses versions it does not speak.
//! docs/design/control-channel.md describes it for people.

pub mod buckets;
pub mod events;
pub mod identity;
pub mod metrics;
pub mod sealing;
pub mod settings;
pub mod wire;

/// Bumped on any incompatible change of a frame's meaning.
pub const PROTOCOL_VERSION: u32 = 1;

/// The control socket's file name inside the data plane's data directory.
pub const SOCKET_FILE_NAME: &str = "control.sock";
