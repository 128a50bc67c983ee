//! Bucket listings: a k-way merge of the sorted streams of every partition, for objects
//! (ListObjects, ListObjectVersions) and for multipart uploads (ListMultipartUploads).
//!
//! Each partition returns pages of entries in key byte order; the merge takes the smallest head,
//! folds keys into common prefixes when a delimiter is given (and then seeks every stream past
//! the prefix instead of reading what it contains), and stops after `max_keys` results. The page
//! ends at an exact position — the last entry or prefix returned — so the next page continues
//! there whatever was written in between: nothing is lost or repeated at page boundaries.
//!
//! Uploads and versions of one key all live in the key's partition, so streams never tie on a
//! key and the merge compares keys only; a stream itself is sorted by (key, upload id) or by
//! (key, newest version first).

use std::collections::VecDeque;
use std::rc::Rc;

use shard::meta::{UploadStart, UploadSummary, prefix_successor};
use shard::{ListEntry, ListStart, Partition, ShardError, VersionEntry, VersionStart};

use crate::context::ShardContext;
use crate::mesh::{MeshMessage, request};

/// Entries fetched from one partition per round trip.
const PAGE_KEYS_MAX: usize = 1000;

/// A listing request; `S` is where it starts: `ListStart` for objects, `UploadStart` for
/// multipart uploads.
#[derive(Debug, Clone)]
pub struct ListQuery<S = ListStart> {
    pub bucket: String,
    pub prefix: Vec<u8>,
    /// Empty means no delimiter.
    pub delimiter: Vec<u8>,
    pub start: S,
    pub max_keys: usize,
    /// The bucket has had versioning, so its latest versions may be delete markers, which
    /// object listings hide (never-versioned buckets skip the test).
    pub versioned: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListItem<E = ListEntry> {
    /// An object or an upload.
    Entry(E),
    CommonPrefix(Vec<u8>),
}

#[derive(Debug)]
pub struct ListPage<E = ListEntry> {
    pub items: Vec<ListItem<E>>,
    pub is_truncated: bool,
}

impl<E> Default for ListPage<E> {
    fn default() -> Self {
        ListPage {
            items: Vec::new(),
            is_truncated: false,
        }
    }
}

/// The start that skips every key beginning with `prefix`.
pub fn next_after_prefix(prefix: &[u8]) -> ListStart {
    ListStart::AtOrAfter(key_after_prefix(prefix))
}

/// The smallest key after every key beginning with `prefix`.
pub fn key_after_prefix(prefix: &[u8]) -> Vec<u8> {
    // Only a prefix of all 0xFF bytes has no successor; nothing can sort after it.
    prefix_successor(prefix).unwrap_or_else(|| vec![0xFF; 1025])
}

/// Objects of `query.bucket`, merged from every partition.
pub async fn list(context: &Rc<ShardContext>, query: &ListQuery) -> Result<ListPage, ShardError> {
    merge::<Objects>(context, query).await
}

/// Versions and delete markers of `query.bucket`, merged from every partition, in (key,
/// newest first) order (ListObjectVersions).
pub async fn list_versions(
    context: &Rc<ShardContext>,
    query: &ListQuery<VersionStart>,
) -> Result<ListPage<VersionEntry>, ShardError> {
    merge::<Versions>(context, query).await
}

/// Multipart uploads in progress in `query.bucket`, merged from every partition, in (key,
/// upload id) order.
pub async fn list_uploads(
    context: &Rc<ShardContext>,
    query: &ListQuery<UploadStart>,
) -> Result<ListPage<UploadSummary>, ShardError> {
    merge::<Uploads>(context, query).await
}

/// One kind of key-sorted stream that every partition can page through.
trait Source {
    type Entry: Clone;
    type Start: Clone;
    fn key(entry: &Self::Entry) -> &[u8];
    /// The start just after `entry`.
    fn after(entry: &Self::Entry) -> Self::Start;
    /// The start at the first entry whose key is at or after `key`.
    fn at_or_after(key: Vec<u8>) -> Self::Start;
    /// The key a start is at; a start is earlier than another only if its key is smaller.
    fn start_key(start: &Self::Start) -> &[u8];
    /// At most `PAGE_KEYS_MAX` entries of a partition from `start`.
    async fn fetch(
        context: &Rc<ShardContext>,
        query: &ListQuery<Self::Start>,
        partition_id: u32,
        start: Self::Start,
    ) -> Result<Vec<Self::Entry>, ShardError>;
}

struct Objects;

impl Source for Objects {
    type Entry = ListEntry;
    type Start = ListStart;

    fn key(entry: &ListEntry) -> &[u8] {
        &entry.key
    }

    fn after(entry: &ListEntry) -> ListStart {
        ListStart::After(entry.key.clone())
    }

    fn at_or_after(key: Vec<u8>) -> ListStart {
        ListStart::AtOrAfter(key)
    }

    fn start_key(start: &ListStart) -> &[u8] {
        match start {
            ListStart::After(key) | ListStart::AtOrAfter(key) => key,
        }
    }

    async fn fetch(
        context: &Rc<ShardContext>,
        query: &ListQuery,
        partition_id: u32,
        start: ListStart,
    ) -> Result<Vec<ListEntry>, ShardError> {
        let (bucket, prefix) = (query.bucket.clone(), query.prefix.clone());
        let local = |partition: &Partition| {
            partition.list(
                &query.bucket,
                &start,
                &query.prefix,
                PAGE_KEYS_MAX,
                query.versioned,
            )
        };
        let remote = |reply| MeshMessage::ListPage {
            partition_id,
            bucket,
            start: start.clone(),
            prefix,
            limit: PAGE_KEYS_MAX,
            versioned: query.versioned,
            reply,
        };
        fetch_page(context, partition_id, local, remote).await
    }
}

struct Uploads;

impl Source for Uploads {
    type Entry = UploadSummary;
    type Start = UploadStart;

    fn key(entry: &UploadSummary) -> &[u8] {
        &entry.key
    }

    fn after(entry: &UploadSummary) -> UploadStart {
        UploadStart::AfterUpload {
            key: entry.key.clone(),
            upload_id: entry.upload_id.clone(),
        }
    }

    fn at_or_after(key: Vec<u8>) -> UploadStart {
        UploadStart::AtOrAfterKey(key)
    }

    fn start_key(start: &UploadStart) -> &[u8] {
        match start {
            UploadStart::AtOrAfterKey(key)
            | UploadStart::AfterKey(key)
            | UploadStart::AfterUpload { key, .. } => key,
        }
    }

    async fn fetch(
        context: &Rc<ShardContext>,
        query: &ListQuery<UploadStart>,
        partition_id: u32,
        start: UploadStart,
    ) -> Result<Vec<UploadSummary>, ShardError> {
        let (bucket, prefix) = (query.bucket.clone(), query.prefix.clone());
        let local = |partition: &Partition| {
            partition.uploads(&query.bucket, &start, &query.prefix, PAGE_KEYS_MAX)
        };
        let remote = |reply| MeshMessage::UploadsPage {
            partition_id,
            bucket,
            start: start.clone(),
            prefix,
            limit: PAGE_KEYS_MAX,
            reply,
        };
        fetch_page(context, partition_id, local, remote).await
    }
}

struct Versions;

impl Source for Versions {
    type Entry = VersionEntry;
    type Start = VersionStart;

    fn key(entry: &VersionEntry) -> &[u8] {
        &entry.key
    }

    fn after(entry: &VersionEntry) -> VersionStart {
        VersionStart::AfterVersion {
            key: entry.key.clone(),
            seq: entry.seq,
        }
    }

    fn at_or_after(key: Vec<u8>) -> VersionStart {
        VersionStart::AtOrAfterKey(key)
    }

    fn start_key(start: &VersionStart) -> &[u8] {
        match start {
            VersionStart::AtOrAfterKey(key)
            | VersionStart::AfterKey(key)
            | VersionStart::AfterVersion { key, .. } => key,
        }
    }

    async fn fetch(
        context: &Rc<ShardContext>,
        query: &ListQuery<VersionStart>,
        partition_id: u32,
        start: VersionStart,
    ) -> Result<Vec<VersionEntry>, ShardError> {
        let (bucket, prefix) = (query.bucket.clone(), query.prefix.clone());
        let local = |partition: &Partition| {
            partition.list_versions(&query.bucket, &start, &query.prefix, PAGE_KEYS_MAX)
        };
        let remote = |reply| MeshMessage::VersionsPage {
            partition_id,
            bucket,
            start: start.clone(),
            prefix,
            limit: PAGE_KEYS_MAX,
            reply,
        };
        fetch_page(context, partition_id, local, remote).await
    }
}

struct Stream<S: Source> {
    partition_id: u32,
    buffer: VecDeque<S::Entry>,
    next: S::Start,
    exhausted: bool,
}

async fn merge<S: Source>(
    context: &Rc<ShardContext>,
    query: &ListQuery<S::Start>,
) -> Result<ListPage<S::Entry>, ShardError> {
    let mut streams: Vec<Stream<S>> = (0..context.partition_count)
        .map(|partition_id| Stream {
            partition_id,
            buffer: VecDeque::new(),
            next: query.start.clone(),
            exhausted: false,
        })
        .collect();
    let mut page = ListPage::default();
    if query.max_keys == 0 {
        page.is_truncated = peek(context, query, &mut streams).await?.is_some();
        return Ok(page);
    }
    while let Some(item) = peek(context, query, &mut streams).await? {
        if page.items.len() == query.max_keys {
            page.is_truncated = true;
            break;
        }
        if let ListItem::CommonPrefix(prefix) = &item {
            let skip_to = S::at_or_after(key_after_prefix(prefix));
            for stream in &mut streams {
                stream
                    .buffer
                    .retain(|entry| !S::key(entry).starts_with(prefix));
                if stream.buffer.is_empty() && S::start_key(&skip_to) > S::start_key(&stream.next) {
                    // Seeking never goes backwards.
                    stream.next = skip_to.clone();
                }
            }
        } else {
            let smallest = smallest_stream(&streams).expect("peek found an item");
            streams[smallest].buffer.pop_front();
        }
        page.items.push(item);
    }
    Ok(page)
}

/// The next item of the merged listing, without consuming it.
async fn peek<S: Source>(
    context: &Rc<ShardContext>,
    query: &ListQuery<S::Start>,
    streams: &mut [Stream<S>],
) -> Result<Option<ListItem<S::Entry>>, ShardError> {
    for stream in streams.iter_mut() {
        if stream.buffer.is_empty() && !stream.exhausted {
            refill(context, query, stream).await?;
        }
    }
    let Some(smallest) = smallest_stream(streams) else {
        return Ok(None);
    };
    let entry = &streams[smallest].buffer[0];
    let key = S::key(entry);
    if !query.delimiter.is_empty() {
        let rest = &key[query.prefix.len()..];
        if let Some(position) = find(rest, &query.delimiter) {
            let end = query.prefix.len() + position + query.delimiter.len();
            return Ok(Some(ListItem::CommonPrefix(key[..end].to_vec())));
        }
    }
    Ok(Some(ListItem::Entry(entry.clone())))
}

fn smallest_stream<S: Source>(streams: &[Stream<S>]) -> Option<usize> {
    streams
        .iter()
        .enumerate()
        .filter_map(|(index, stream)| stream.buffer.front().map(|entry| (index, S::key(entry))))
        .min_by(|a, b| a.1.cmp(b.1))
        .map(|(index, _)| index)
}

async fn refill<S: Source>(
    context: &Rc<ShardContext>,
    query: &ListQuery<S::Start>,
    stream: &mut Stream<S>,
) -> Result<(), ShardError> {
    let entries = S::fetch(context, query, stream.partition_id, stream.next.clone()).await?;
    if entries.len() < PAGE_KEYS_MAX {
        stream.exhausted = true;
    }
    if let Some(last) = entries.last() {
        stream.next = S::after(last);
    }
    stream.buffer.extend(entries);
    Ok(())
}

/// A page of partition `partition_id`: read directly when this shard owns it, else asked of
/// its owner through the inbox.
async fn fetch_page<T>(
    context: &ShardContext,
    partition_id: u32,
    local: impl FnOnce(&Partition) -> Result<T, ShardError>,
    remote: impl FnOnce(crate::mesh::Reply<T>) -> MeshMessage,
) -> Result<T, ShardError> {
    if let Some(partition) = context.partitions.get(&partition_id) {
        return local(partition);
    }
    ask_owner(context, partition_id, remote).await
}

/// A page of a partition another shard owns, through that shard's inbox.
async fn ask_owner<T>(
    context: &ShardContext,
    partition_id: u32,
    build: impl FnOnce(crate::mesh::Reply<T>) -> MeshMessage,
) -> Result<T, ShardError> {
    let owner = context.owner_of_partition(partition_id);
    request(&context.inboxes[owner as usize], build).await
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
