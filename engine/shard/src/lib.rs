//! The shard's storage engine: object bytes in O_DIRECT segment files, metadata in SQLite, and
//! the rules that decide when a write becomes visible.
//!
//! A shard thread owns one or more `Partition`s. Each partition has its own segment files,
//! its own SQLite database and a worker thread that group-commits its writes. Nothing here is
//! shared between shards; nothing here knows about HTTP, XML or S3 error codes.
//!
//! Architecture invariant: a commit is acknowledged only after the data it references has been
//! fdatasynced and the SQLite transaction that references it has committed with
//! `synchronous=FULL`.

pub mod aligned;
pub mod bucket_config;
pub mod check;
pub mod encryption;
pub mod error;
pub mod meta;
pub mod partition;
pub mod record;
mod record_cache;
pub mod rewrap;
pub mod segments;
pub mod storage;
pub mod tasks;
pub mod versions;
pub mod worker;

pub use error::ShardError;
pub use partition::{
    IntegrityCounters, ObjectReader, ObjectWriter, Partition, PartitionOptions, ReadPin,
    RecoveryReport, WrittenData,
};
pub use record::{
    BucketEncryption, BucketRecord, BucketUsage, CorsRule, EventRecord, Extent, ListEntry,
    ListStart, ObjectRecord, ObjectRetention, RetentionMode, StoredEvent, UploadRecord, VersionRef,
    Versioning,
};
pub use segments::CacheStats;
pub use tasks::{TaskStats, TaskType};
pub use versions::{VersionEntry, VersionOutcome, VersionStart};
