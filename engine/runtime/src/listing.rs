//! Bucket listings: a k-way merge of the sorted key streams of every partition.
//!
//! Each partition returns pages of keys in byte order; the merge takes the smallest head, folds
//! keys into common prefixes when a delimiter is given (and then seeks every stream past the
//! prefix instead of reading what it contains), and stops after `max_keys` results. The page
//! ends at an exact position — the last key or prefix returned — so the next page continues
//! there whatever was written in between: nothing is lost or repeated at page boundaries.

use std::collections::VecDeque;
use std::rc::Rc;

use shard::meta::prefix_successor;
use shard::{ListEntry, ListStart, ShardError};

use crate::context::ShardContext;
use crate::mesh::{MeshMessage, request};

/// Keys fetched from one partition per round trip.
const PAGE_KEYS_MAX: usize = 1000;

#[derive(Debug, Clone)]
pub struct ListQuery {
    pub bucket: String,
    pub prefix: Vec<u8>,
    /// Empty means no delimiter.
    pub delimiter: Vec<u8>,
    pub start: ListStart,
    pub max_keys: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ListItem {
    Object(ListEntry),
    CommonPrefix(Vec<u8>),
}

#[derive(Debug, Default)]
pub struct ListPage {
    pub items: Vec<ListItem>,
    pub is_truncated: bool,
}

impl ListPage {
    /// Where the next page starts, when truncated.
    pub fn next_start(&self) -> Option<ListStart> {
        match self.items.last()? {
            ListItem::Object(entry) => Some(ListStart::After(entry.key.clone())),
            ListItem::CommonPrefix(prefix) => Some(next_after_prefix(prefix)),
        }
    }
}

/// The start that skips every key beginning with `prefix`.
pub fn next_after_prefix(prefix: &[u8]) -> ListStart {
    match prefix_successor(prefix) {
        Some(successor) => ListStart::AtOrAfter(successor),
        // Only a prefix of all 0xFF bytes has no successor; nothing can sort after it.
        None => ListStart::AtOrAfter(vec![0xFF; 1025]),
    }
}

struct Stream {
    partition_id: u32,
    buffer: VecDeque<ListEntry>,
    next: ListStart,
    exhausted: bool,
}

pub async fn list(context: &Rc<ShardContext>, query: &ListQuery) -> Result<ListPage, ShardError> {
    let mut streams: Vec<Stream> = (0..context.partition_count)
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
            let skip_to = next_after_prefix(prefix);
            for stream in &mut streams {
                stream.buffer.retain(|entry| !entry.key.starts_with(prefix));
                if stream.buffer.is_empty() {
                    stream.next = later_start(&stream.next, &skip_to);
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
async fn peek(
    context: &Rc<ShardContext>,
    query: &ListQuery,
    streams: &mut [Stream],
) -> Result<Option<ListItem>, ShardError> {
    for stream in streams.iter_mut() {
        if stream.buffer.is_empty() && !stream.exhausted {
            refill(context, query, stream).await?;
        }
    }
    let Some(smallest) = smallest_stream(streams) else {
        return Ok(None);
    };
    let entry = &streams[smallest].buffer[0];
    if !query.delimiter.is_empty() {
        let rest = &entry.key[query.prefix.len()..];
        if let Some(position) = find(rest, &query.delimiter) {
            let end = query.prefix.len() + position + query.delimiter.len();
            return Ok(Some(ListItem::CommonPrefix(entry.key[..end].to_vec())));
        }
    }
    Ok(Some(ListItem::Object(entry.clone())))
}

fn smallest_stream(streams: &[Stream]) -> Option<usize> {
    streams
        .iter()
        .enumerate()
        .filter_map(|(index, stream)| stream.buffer.front().map(|entry| (index, &entry.key)))
        .min_by(|a, b| a.1.cmp(b.1))
        .map(|(index, _)| index)
}

async fn refill(
    context: &Rc<ShardContext>,
    query: &ListQuery,
    stream: &mut Stream,
) -> Result<(), ShardError> {
    let entries = fetch(context, query, stream.partition_id, stream.next.clone()).await?;
    if entries.len() < PAGE_KEYS_MAX {
        stream.exhausted = true;
    }
    if let Some(last) = entries.last() {
        stream.next = ListStart::After(last.key.clone());
    }
    stream.buffer.extend(entries);
    Ok(())
}

async fn fetch(
    context: &Rc<ShardContext>,
    query: &ListQuery,
    partition_id: u32,
    start: ListStart,
) -> Result<Vec<ListEntry>, ShardError> {
    if let Some(partition) = context.partitions.get(&partition_id) {
        return partition.list(&query.bucket, &start, &query.prefix, PAGE_KEYS_MAX);
    }
    let owner = context.owner_of_partition(partition_id);
    let inbox = &context.inboxes[owner as usize];
    request(inbox, |reply| MeshMessage::ListPage {
        partition_id,
        bucket: query.bucket.clone(),
        start,
        prefix: query.prefix.clone(),
        limit: PAGE_KEYS_MAX,
        reply,
    })
    .await
}

/// The later of two starts (seeking never goes backwards).
fn later_start(current: &ListStart, candidate: &ListStart) -> ListStart {
    let key_of = |start: &ListStart| match start {
        ListStart::After(key) | ListStart::AtOrAfter(key) => key.clone(),
    };
    let (current_key, candidate_key) = (key_of(current), key_of(candidate));
    if candidate_key > current_key {
        candidate.clone()
    } else {
        current.clone()
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}
