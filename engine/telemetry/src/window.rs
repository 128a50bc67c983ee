//! Sliding windows for the SLO gauges: the last few minutes of each operation's latencies,
//! outcomes and traffic, so that `maxiofs_operation_latency_p99_milliseconds` says how the
//! server is doing now, not since it started (MaxIOFS keeps raw samples for an hour and sorts
//! them; we keep one small hdrhistogram per operation per slot).
//!
//! The window is a ring of `SLOT_COUNT` slots of `SLOT_SECONDS` each, keyed by wall-clock
//! epoch (`unix seconds / SLOT_SECONDS`), so slots of different shards line up when merged at
//! scrape time. A slot is reset when the ring comes round to it; a scrape reads only the slots
//! whose epoch is inside the window. The window therefore covers between
//! `(SLOT_COUNT - 1) * SLOT_SECONDS` and `SLOT_COUNT * SLOT_SECONDS` seconds.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use crate::{RequestRecord, new_percentile_histogram};

pub const SLOT_SECONDS: u64 = 30;
pub const SLOT_COUNT: usize = 10;
/// The nominal length of the window, as exported in `maxiofs_slo_window_seconds`.
pub const WINDOW_SECONDS: u64 = SLOT_SECONDS * SLOT_COUNT as u64;

/// Operations that create, read or remove one object: what "objects per second" counts.
const OBJECT_OPERATIONS: [&str; 7] = [
    "PutObject",
    "GetObject",
    "DeleteObject",
    "CopyObject",
    "CompleteMultipartUpload",
    "PostObject",
    "HeadObject",
];

/// One operation's requests within one slot.
#[derive(Clone, Debug)]
pub struct SlotOperation {
    pub latency_us: Histogram<u64>,
    pub requests: u64,
    /// Answered with a 5xx (or not answered at all: counted as failures of the server only
    /// when the status is 5xx; client errors are the client's).
    pub server_errors: u64,
    pub sum_seconds: f64,
}

#[derive(Clone, Debug, Default)]
pub struct Slot {
    pub epoch: u64,
    pub operations: BTreeMap<&'static str, SlotOperation>,
    pub requests: u64,
    pub bytes: u64,
    pub objects: u64,
}

#[derive(Clone, Debug)]
pub struct Window {
    slots: Vec<Slot>,
}

impl Default for Window {
    fn default() -> Self {
        Window {
            slots: vec![Slot::default(); SLOT_COUNT],
        }
    }
}

impl Window {
    /// Records a finished request at wall-clock second `now_secs`.
    pub fn record(&mut self, request: &RequestRecord, now_secs: u64) {
        let epoch = now_secs / SLOT_SECONDS;
        let index = usize::try_from(epoch % SLOT_COUNT as u64).unwrap_or(0);
        let slot = &mut self.slots[index];
        if slot.epoch != epoch {
            *slot = Slot {
                epoch,
                ..Slot::default()
            };
        }
        slot.requests += 1;
        slot.bytes += request.received_bytes + request.sent_bytes;
        if request.status < 300 && OBJECT_OPERATIONS.contains(&request.operation) {
            slot.objects += 1;
        }
        let operation = slot
            .operations
            .entry(request.operation)
            .or_insert_with(|| SlotOperation {
                latency_us: new_percentile_histogram(),
                requests: 0,
                server_errors: 0,
                sum_seconds: 0.0,
            });
        operation.requests += 1;
        if request.status >= 500 {
            operation.server_errors += 1;
        }
        operation.sum_seconds += request.duration.as_secs_f64();
        let micros = u64::try_from(request.duration.as_micros()).unwrap_or(u64::MAX);
        operation.latency_us.saturating_record(micros.max(1));
    }

    /// The slots inside the window ending at `now_secs`.
    pub fn live_slots(&self, now_secs: u64) -> impl Iterator<Item = &Slot> {
        let current = now_secs / SLOT_SECONDS;
        self.slots.iter().filter(move |slot| {
            slot.requests > 0 && slot.epoch <= current && current - slot.epoch < SLOT_COUNT as u64
        })
    }
}

/// Every shard's window merged: what the SLO gauges are computed from.
#[derive(Debug, Default)]
pub struct WindowTotals {
    pub operations: BTreeMap<&'static str, SlotOperation>,
    pub requests: u64,
    pub bytes: u64,
    pub objects: u64,
    /// Seconds the window actually covers: from the start of its oldest live slot to now.
    pub covered_seconds: f64,
}

impl WindowTotals {
    pub fn merge<'a>(windows: impl IntoIterator<Item = &'a Window>, now_secs: u64) -> Self {
        let mut totals = WindowTotals::default();
        let mut oldest_epoch = now_secs / SLOT_SECONDS;
        for window in windows {
            for slot in window.live_slots(now_secs) {
                oldest_epoch = oldest_epoch.min(slot.epoch);
                totals.requests += slot.requests;
                totals.bytes += slot.bytes;
                totals.objects += slot.objects;
                for (name, operation) in &slot.operations {
                    match totals.operations.get_mut(name) {
                        Some(total) => {
                            total.requests += operation.requests;
                            total.server_errors += operation.server_errors;
                            total.sum_seconds += operation.sum_seconds;
                            // Same bounds on both sides: adding cannot fail.
                            let _ = total.latency_us.add(&operation.latency_us);
                        }
                        None => {
                            totals.operations.insert(name, operation.clone());
                        }
                    }
                }
            }
        }
        let start = oldest_epoch * SLOT_SECONDS;
        // At least one second, so that a window that has only just begun does not divide by 0.
        #[allow(clippy::cast_precision_loss)] // seconds since 1970 are exact in f64
        let covered = (now_secs.saturating_sub(start)).max(1) as f64;
        totals.covered_seconds = covered;
        totals
    }
}
