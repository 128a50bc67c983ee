//! Streaming one object's bytes to the shard that writes a copy of it (CopyObject,
//! UploadPartCopy).
//!
//! The source and destination keys of a copy usually live on different shards, so here, and
//! only here, object bytes cross cores. The source key's owner opens the object
//! (`open_owned`): it looks the record up and pins its extents in one step, then a task on the
//! source shard holds that pin for the whole copy and sends the bytes in chunks through a
//! bounded channel. The destination gets the committed record first, checks its preconditions,
//! then names the byte range to send (or drops the stream, which ends the source task and its
//! pin). Because the pin holds back reclamation of the extents the record names, a copy reads
//! exactly the object that was current when it was opened, even if it is overwritten or
//! deleted meanwhile: never a mix of old and new bytes.

use std::ops::Range;
use std::rc::Rc;

use shard::aligned::AlignedBuf;
use shard::encryption::ReadDecryption;
use shard::partition::IO_BUFFER_BYTES;
use shard::{ObjectReader, ObjectRecord, Partition, ReadPin, ShardError, VersionRef};

use crate::context::ShardContext;
use crate::mesh::{self, MeshMessage, Reply};

/// Chunks in flight per copy: enough to keep the reader and the writer both busy, few enough
/// that a copy holds at most a few MiB (chunks are at most `IO_BUFFER_BYTES`).
pub const STREAM_DEPTH_CHUNKS: usize = 4;

/// One piece of the object, in order; an error ends the stream.
pub type Chunk = Result<Vec<u8>, ShardError>;

/// An opened source object: its committed record, and the stream of its bytes once asked.
pub struct SourceStream {
    /// The record as committed when the object was opened (size, ETag, Last-Modified,
    /// stored headers, part sizes).
    pub record: ObjectRecord,
    /// Sending a range (within `record.size_bytes`) starts the bytes; dropping it instead
    /// ends the source task without reading anything.
    pub start: flume::Sender<StreamStart>,
    /// The bytes of the range, in chunks of at most `IO_BUFFER_BYTES`. The channel closes
    /// after the last chunk; a close before the range's length was received means the source
    /// shard stopped.
    pub chunks: flume::Receiver<Chunk>,
}

/// What the destination asks the source task for.
pub struct StreamStart {
    pub range: Range<u64>,
    /// The keys of an encrypted source (the destination holds the request's SSE-C headers);
    /// the bytes then cross as plaintext, to be encrypted by the destination's writer as its
    /// own request says. `None` for a plaintext source.
    pub decryption: Option<ReadDecryption>,
}

/// Opens `bucket/key` (its latest version, or `version`) wherever it lives: on this shard
/// directly, else through the owner's inbox. `NoSuchKey` when the key holds no object (or its
/// latest version is a delete marker), `NoSuchVersion` when it has no such version,
/// `DeleteMarker` when the version named is one.
pub async fn open_object(
    context: &Rc<ShardContext>,
    bucket: &str,
    key: &str,
    version: Option<VersionRef>,
) -> Result<SourceStream, ShardError> {
    let owner = context.owner_of_key(bucket, key);
    if owner == context.shard_id {
        return open_owned(context, bucket, key, version.as_ref());
    }
    let inbox = context
        .inboxes
        .get(owner as usize)
        .ok_or(ShardError::ShuttingDown)?;
    mesh::request(inbox, |reply| {
        MeshMessage::OpenObject(OpenRequest {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            version,
            reply,
        })
    })
    .await
}

/// `MeshMessage::OpenObject`: open an object the receiving shard owns.
pub struct OpenRequest {
    pub bucket: String,
    pub key: String,
    pub version: Option<VersionRef>,
    pub reply: Reply<SourceStream>,
}

/// Answers an `OpenRequest` from the inbox loop; the lookup is synchronous, the streaming is
/// a task of its own.
pub fn serve_open(context: &Rc<ShardContext>, request: OpenRequest) {
    let OpenRequest {
        bucket,
        key,
        version,
        reply,
    } = request;
    let _ = reply.send(open_owned(context, &bucket, &key, version.as_ref()));
}

/// Opens an object whose partition this shard owns: looks it up and pins it, and spawns the
/// task that will stream it. Runs on the owner (directly or from the inbox loop).
pub fn open_owned(
    context: &Rc<ShardContext>,
    bucket: &str,
    key: &str,
    version: Option<&VersionRef>,
) -> Result<SourceStream, ShardError> {
    let partition_id = context.partition_of(bucket, key);
    let partition = context
        .partitions
        .get(&partition_id)
        .ok_or_else(|| ShardError::Metadata(format!("partition {partition_id} is not here")))?;
    let (record, pin) = match partition.lookup_version_pinned(bucket, key, version)? {
        Some((record, ..)) if record.delete_marker && version.is_some() => {
            return Err(ShardError::DeleteMarker);
        }
        Some((record, _, pin)) if !record.delete_marker => (record, pin),
        _ if version.is_some() => return Err(ShardError::NoSuchVersion),
        _ => return Err(ShardError::NoSuchKey),
    };
    let (start, start_receiver) = flume::bounded(1);
    let (chunk_sender, chunks) = flume::bounded(STREAM_DEPTH_CHUNKS);
    monoio::spawn(stream_object(
        Rc::clone(partition),
        record.clone(),
        pin,
        start_receiver,
        chunk_sender,
    ));
    Ok(SourceStream {
        record,
        start,
        chunks,
    })
}

/// The source task: waits for the range, then reads it under the pin taken at open and sends
/// it chunk by chunk. Ends (dropping the pin) when done, on an error, or when the destination
/// drops its end.
async fn stream_object(
    partition: Rc<Partition>,
    record: ObjectRecord,
    pin: ReadPin,
    start: flume::Receiver<StreamStart>,
    chunks: flume::Sender<Chunk>,
) {
    let Ok(StreamStart { range, decryption }) = start.recv_async().await else {
        return;
    };
    if range.start > range.end || range.end > record.size_bytes {
        let error = ShardError::Metadata("copy range outside the source object".to_owned());
        let _ = chunks.send_async(Err(error)).await;
        return;
    }
    // Never stream ciphertext as if it were the object.
    if record.encryption.is_some() != decryption.is_some() {
        let error = ShardError::CorruptRecord("copy source decryption does not match the source");
        let _ = chunks.send_async(Err(error)).await;
        return;
    }
    let mut reader = ObjectReader::new(&partition, &record, pin, range);
    if let Some(decryption) = decryption {
        reader = reader.decrypting(decryption);
    }
    let mut buf = AlignedBuf::new(reader.buffer_size_bytes().min(IO_BUFFER_BYTES));
    loop {
        let (result, returned) = reader.next(buf).await;
        buf = returned;
        let chunk = match result {
            Ok(None) => return,
            Ok(Some(valid)) => buf
                .as_slice()
                .get(valid)
                .map(<[u8]>::to_vec)
                .ok_or(ShardError::CorruptRecord("read shorter than asked")),
            Err(error) => Err(error),
        };
        let failed = chunk.is_err();
        if chunks.send_async(chunk).await.is_err() || failed {
            return;
        }
    }
}
