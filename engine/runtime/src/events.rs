//! The event log as the runtime writes and serves it: building `EventRecord`s for the shard
//! (which stores them in the same transaction as the write they describe), converting stored
//! events to the control protocol's `Event`, and recording denied requests in partition 0
//! without letting a flood of them grow the log or the worker's queue without limit.

use std::rc::Rc;

pub use control::events::{Event, EventKind};
use control::settings::keys;
use shard::meta::MetaOp;
use shard::{EventRecord, StoredEvent};

use crate::catalogue::COORDINATOR_SHARD;
use crate::context::ShardContext;
use crate::mesh::{ControlMessage, MeshMessage};

/// The partition whose log holds bucket events and denied requests.
pub const CATALOGUE_PARTITION: u32 = 0;
/// A denied-request event is dropped (and counted) when partition 0's worker has more than
/// this many commits queued: denied requests cost no disk write of their own, so a flood of
/// them must not slow down the writes that do, nor grow the log without limit.
pub const DENIED_EVENT_QUEUE_MAX: usize = 256;
/// A denied-request event is not sent to the coordinator when its inbox holds more than this
/// many messages: hand-overs and catalogue messages there matter more.
pub const DENIED_EVENT_INBOX_MAX: usize = crate::mesh::INBOX_DEPTH / 8;

/// Who made a request, as far as the event log cares.
#[derive(Clone, Debug, Default)]
pub struct Actor {
    pub access_key_id: Option<String>,
    pub user_id: Option<String>,
    pub tenant_id: Option<String>,
    pub request_id: String,
    pub source_ip: Option<String>,
}

/// The stored name of a kind (`object_created`...), the same as the protocol's JSON.
pub fn kind_name(kind: EventKind) -> String {
    match serde_json::to_value(kind) {
        Ok(serde_json::Value::String(name)) => name,
        _ => format!("{kind:?}"),
    }
}

fn kind_from_name(name: &str) -> Option<EventKind> {
    serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
}

/// An event to store, stamped now.
pub fn record(
    kind: EventKind,
    operation: &str,
    bucket: &str,
    key: Option<&str>,
    actor: &Actor,
    status: u16,
) -> EventRecord {
    EventRecord {
        time_ms: now_ms(),
        kind: kind_name(kind),
        operation: operation.to_owned(),
        bucket: bucket.to_owned(),
        key: key.map(str::to_owned),
        version_id: None,
        size_bytes: None,
        etag: None,
        access_key_id: actor.access_key_id.clone(),
        user_id: actor.user_id.clone(),
        tenant_id: actor.tenant_id.clone(),
        request_id: actor.request_id.clone(),
        source_ip: actor.source_ip.clone(),
        status,
        iam_action: None,
        resource_arn: None,
        decided_by: None,
    }
}

/// `op` with `event` attached: both commit in one transaction, or neither does.
pub fn logged(op: MetaOp, event: EventRecord) -> MetaOp {
    MetaOp::Logged {
        op: Box::new(op),
        event: Box::new(event),
    }
}

/// A stored event as the control protocol carries it; `None` for a kind this binary does not
/// know (a newer binary wrote it), which the reader skips rather than failing the whole page.
pub fn to_wire(partition: u32, stored: StoredEvent) -> Option<Event> {
    let event = stored.event;
    Some(Event {
        partition,
        seq: stored.seq,
        time_unix_ms: event.time_ms,
        kind: kind_from_name(&event.kind)?,
        operation: event.operation,
        bucket: event.bucket,
        key: event.key,
        version_id: event.version_id,
        size: event.size_bytes,
        etag: event.etag,
        access_key_id: event.access_key_id,
        user_id: event.user_id,
        tenant_id: event.tenant_id,
        request_id: event.request_id,
        source_ip: event.source_ip,
        status: event.status,
        iam_action: event.iam_action,
        resource_arn: event.resource_arn,
        decided_by: event.decided_by,
    })
}

/// Records a denied request in partition 0's log, unless the setting turns that off or the
/// log's worker is too far behind (then the event is dropped and counted).
pub fn record_denied(context: &Rc<ShardContext>, event: EventRecord) {
    if !context
        .dynamic_settings()
        .flag(keys::AUDIT_LOG_DENIED, true)
    {
        return;
    }
    if context.shard_id == COORDINATOR_SHARD {
        append_denied(context, event);
        return;
    }
    let message = MeshMessage::Control(ControlMessage::DeniedEvent {
        event: Box::new(event),
    });
    // Never wait: a busy coordinator inbox means the event is not worth slowing anyone down.
    let inbox = &context.inboxes[COORDINATOR_SHARD as usize];
    if inbox.len() > DENIED_EVENT_INBOX_MAX || inbox.try_send(message).is_err() {
        count_dropped(context);
    }
}

/// On the coordinator: queue the event on partition 0's worker (group-committed with
/// whatever else is queued), or drop it when the queue is deep.
pub fn append_denied(context: &Rc<ShardContext>, event: EventRecord) {
    let Some(partition) = context.partitions.get(&CATALOGUE_PARTITION) else {
        count_dropped(context);
        return;
    };
    if partition.queue_depth() > DENIED_EVENT_QUEUE_MAX {
        count_dropped(context);
        return;
    }
    let partition = Rc::clone(partition);
    let context = Rc::clone(context);
    monoio::spawn(async move {
        let op = MetaOp::AppendEvents {
            events: vec![event],
        };
        if let Err(error) = partition.commit(op, Vec::new()).await {
            tracing::warn!(%error, "could not record a denied request");
            count_dropped(&context);
        }
    });
}

fn count_dropped(context: &ShardContext) {
    let dropped = context.denied_events_dropped.get() + 1;
    context.denied_events_dropped.set(dropped);
    if dropped.is_power_of_two() {
        tracing::warn!(
            dropped,
            "denied-request events dropped (audit log under load)"
        );
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| {
            i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_stored_names() {
        for kind in [
            EventKind::ObjectCreated,
            EventKind::ObjectRemoved,
            EventKind::BucketCreated,
            EventKind::BucketRemoved,
            EventKind::BucketConfigChanged,
            EventKind::AccessDenied,
        ] {
            assert_eq!(kind_from_name(&kind_name(kind)), Some(kind));
        }
        assert_eq!(kind_name(EventKind::ObjectCreated), "object_created");
        assert_eq!(kind_from_name("from_the_future"), None);
    }

    #[test]
    fn stored_events_become_protocol_events() {
        let actor = Actor {
            access_key_id: Some("AK".into()),
            user_id: Some("u1".into()),
            tenant_id: Some("t1".into()),
            request_id: "req-1".into(),
            source_ip: Some("127.0.0.1".into()),
        };
        let mut stored = record(
            EventKind::ObjectCreated,
            "PutObject",
            "photos",
            Some("a.jpg"),
            &actor,
            200,
        );
        stored.size_bytes = Some(42);
        stored.etag = Some("abc".into());
        let time = stored.time_ms;
        let event = to_wire(
            3,
            StoredEvent {
                seq: 9,
                event: stored,
            },
        )
        .unwrap();
        assert_eq!(
            event,
            Event {
                partition: 3,
                seq: 9,
                time_unix_ms: time,
                kind: EventKind::ObjectCreated,
                operation: "PutObject".into(),
                bucket: "photos".into(),
                key: Some("a.jpg".into()),
                version_id: None,
                size: Some(42),
                etag: Some("abc".into()),
                access_key_id: Some("AK".into()),
                user_id: Some("u1".into()),
                tenant_id: Some("t1".into()),
                request_id: "req-1".into(),
                source_ip: Some("127.0.0.1".into()),
                status: 200,
                iam_action: None,
                resource_arn: None,
                decided_by: None,
            }
        );
        let unknown = StoredEvent {
            seq: 10,
            event: EventRecord {
                kind: "from_the_future".into(),
                ..EventRecord::default()
            },
        };
        assert_eq!(to_wire(3, unknown), None);
    }
}
