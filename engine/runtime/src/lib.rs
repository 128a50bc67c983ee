//! The thread-per-core data plane runtime: shard threads, key placement, the bounded mesh of
//! inboxes between shards, the bucket catalogue protocol and merged listings.
//!
//! Architecture invariant: shards share no mutable state. Everything that crosses cores is a
//! `MeshMessage` through a bounded inbox; each shard's `ShardContext` is `Rc`, never `Send`.

pub mod batch_delete;
pub mod bootstrap;
pub mod catalogue;
pub mod context;
pub mod control_server;
pub mod events;
pub mod host;
pub mod identity;
pub mod keyring;
pub mod lifecycle;
pub mod listing;
pub mod mesh;
pub mod metrics;
pub mod object_stream;
pub mod placement;
pub mod readiness;
pub mod rewrap;
pub mod scrubber;
pub mod sessions;
pub mod upload_expiry;
pub mod usage;

pub use bootstrap::{ConnectionHandler, Running, RuntimeConfig, StartError, start};
pub use context::{ShardContext, SharedSettings};
