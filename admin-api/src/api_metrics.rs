//! Recent data-plane traffic for the console's metrics page. The admin asks the data plane for
//! its per-operation and per-shard figures (`Request::Metrics`, `control::metrics`) every
//! `SAMPLE_INTERVAL` and keeps the last `MAX_SAMPLES` in memory only (a restart starts
//! afresh); `GET /api/v1/metrics` answers them oldest first, and the console turns consecutive
//! samples into rates. Global admins only: the figures cover every tenant's traffic.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use control::metrics::MetricsSummary;
use control::wire::{Request, Response};
use serde_json::{Value, json};

use crate::api_buckets::call;
use crate::app::{App, Shared};
use crate::error::{ApiError, ApiResult};
use crate::extract::Auth;

pub const SAMPLE_INTERVAL: Duration = Duration::from_secs(5);
/// Ten minutes of samples: about 120 small JSON documents.
pub const MAX_SAMPLES: usize = 120;
/// A request takes a sample of its own when the newest is older than this, so that the page
/// opens on the present.
const FRESH_MS: u64 = 1000;

/// The samples kept, oldest first; bounded by `MAX_SAMPLES`.
#[derive(Default)]
pub struct TrafficHistory {
    samples: Mutex<VecDeque<MetricsSummary>>,
}

impl TrafficHistory {
    /// A panic while holding the lock cannot leave the queue half-changed (each change is one
    /// push or pop): a poisoned lock is used as it is.
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<MetricsSummary>> {
        self.samples
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn push(&self, sample: MetricsSummary) {
        let mut samples = self.lock();
        // Time order is what the rates need: a sample older than the newest (two takers
        // racing) is dropped.
        if samples
            .back()
            .is_some_and(|newest| newest.at_unix_ms >= sample.at_unix_ms)
        {
            return;
        }
        if samples.len() == MAX_SAMPLES {
            samples.pop_front();
        }
        samples.push_back(sample);
        debug_assert!(samples.len() <= MAX_SAMPLES);
    }

    pub fn samples(&self) -> Vec<MetricsSummary> {
        let samples = self.lock();
        samples.iter().cloned().collect()
    }

    fn newest_at_ms(&self) -> Option<u64> {
        let samples = self.lock();
        samples.back().map(|newest| newest.at_unix_ms)
    }
}

async fn sample_once(app: &App) -> ApiResult<()> {
    match call(app, Request::Metrics).await? {
        Response::Metrics(summary) => {
            app.traffic.push(summary);
            Ok(())
        }
        other => Err(ApiError::internal(&format!("Metrics answered {other:?}"))),
    }
}

/// The background sampler (spawned beside `app::run_background`); a failed sample is skipped.
pub async fn run_sampler(app: Arc<App>) {
    loop {
        if let Err(error) = sample_once(&app).await {
            tracing::debug!(?error, "metrics sample skipped");
        }
        tokio::time::sleep(SAMPLE_INTERVAL).await;
    }
}

pub async fn recent(State(app): State<Shared>, Auth(actor): Auth) -> ApiResult<Json<Value>> {
    if !actor.is_global_admin() {
        return Err(ApiError::forbidden());
    }
    let now_ms = u64::try_from(crate::app::now_ms()).unwrap_or(0);
    let stale = app
        .traffic
        .newest_at_ms()
        .is_none_or(|newest| now_ms.saturating_sub(newest) > FRESH_MS);
    if stale && let Err(error) = sample_once(&app).await {
        // Older samples still tell something; with none, the page shows the reason.
        if app.traffic.newest_at_ms().is_none() {
            return Err(error);
        }
    }
    Ok(Json(json!({
        "interval_seconds": SAMPLE_INTERVAL.as_secs(),
        "max_samples": MAX_SAMPLES,
        "samples": app.traffic.samples(),
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(at_unix_ms: u64) -> MetricsSummary {
        MetricsSummary {
            at_unix_ms,
            ..MetricsSummary::default()
        }
    }

    #[test]
    fn history_is_bounded_and_in_time_order() {
        let history = TrafficHistory::default();
        for at in 1..=u64::try_from(MAX_SAMPLES).expect("small") + 5 {
            history.push(sample(at * 1000));
        }
        history.push(sample(3000));
        let kept = history.samples();
        assert_eq!(kept.len(), MAX_SAMPLES);
        assert_eq!(kept.first().map(|s| s.at_unix_ms), Some(6000));
        assert!(
            kept.windows(2)
                .all(|pair| pair[0].at_unix_ms < pair[1].at_unix_ms)
        );
    }
}
