//! Bounds on what clients can make the admin do: per-key one-minute budgets (logins per client
//! IP, password and 2FA changes per account, unauthenticated audit entries per client IP) and
//! the gate every Argon2 computation passes (each takes 19 MiB and tens of milliseconds of a
//! core; 64 at once took the admin to 1.2 GB).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

const WINDOW: Duration = Duration::from_mins(1);

/// Fixed one-minute windows per key, with at most `max_keys` keys remembered (beyond, expired
/// windows are dropped, then the oldest): a client cycling through addresses or names cannot
/// grow the map without bound.
pub struct Windows {
    windows: Mutex<HashMap<String, (Instant, u64)>>,
    max_keys: usize,
}

impl Windows {
    pub fn new(max_keys: usize) -> Self {
        Self {
            windows: Mutex::new(HashMap::new()),
            max_keys,
        }
    }

    /// Counts one event of `key`; `Err(retry_after)` when the key's window already holds
    /// `budget` events.
    pub fn take(&self, key: &str, budget: u64) -> Result<(), Duration> {
        self.take_at(key, budget, Instant::now())
    }

    fn take_at(&self, key: &str, budget: u64, now: Instant) -> Result<(), Duration> {
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() >= self.max_keys && !windows.contains_key(key) {
            windows.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
            if windows.len() >= self.max_keys
                && let Some(oldest) = windows
                    .iter()
                    .min_by_key(|(_, (start, _))| *start)
                    .map(|(key, _)| key.clone())
            {
                windows.remove(&oldest);
            }
        }
        let window = windows.entry(key.to_owned()).or_insert((now, 0));
        if now.duration_since(window.0) >= WINDOW {
            *window = (now, 0);
        }
        if window.1 >= budget {
            let left = WINDOW.saturating_sub(now.duration_since(window.0));
            return Err(left.max(Duration::from_secs(1)));
        }
        window.1 += 1;
        Ok(())
    }
}

/// Argon2 computations running at once.
pub const HASH_CONCURRENCY: usize = 4;
/// Requests waiting for a hashing slot; beyond, a request is refused at once (503) rather
/// than queued without bound.
pub const HASH_MAX_WAITING: usize = 32;

#[derive(Debug)]
pub enum GateError {
    /// Too many waiting already.
    Busy,
    /// The blocking task panicked.
    Failed(String),
}

pub struct HashGate {
    permits: Arc<Semaphore>,
    waiting: AtomicUsize,
}

impl Default for HashGate {
    fn default() -> Self {
        Self {
            permits: Arc::new(Semaphore::new(HASH_CONCURRENCY)),
            waiting: AtomicUsize::new(0),
        }
    }
}

/// Takes one place in the waiting count back when dropped (also if the request is dropped
/// while it waits).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl HashGate {
    /// Runs `work` (an Argon2 hash or verification) on the blocking pool once a slot is free.
    /// The slot travels with the blocking task: a request dropped mid-hash does not free it
    /// before the memory is.
    pub async fn run<T, F>(&self, work: F) -> Result<T, GateError>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= HASH_MAX_WAITING {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(GateError::Busy);
        }
        let waiting = Waiting(&self.waiting);
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|error| GateError::Failed(error.to_string()))?;
        drop(waiting);
        tokio::task::spawn_blocking(move || {
            let result = work();
            drop(permit);
            result
        })
        .await
        .map_err(|error| GateError::Failed(error.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_count_per_key_and_say_when_to_retry() {
        let windows = Windows::new(2);
        let start = Instant::now();
        assert!(windows.take_at("a", 2, start).is_ok());
        assert!(windows.take_at("a", 2, start).is_ok());
        let retry = windows.take_at("a", 2, start + Duration::from_secs(20));
        assert_eq!(retry, Err(Duration::from_secs(40)));
        assert!(windows.take_at("b", 2, start).is_ok(), "keys are apart");
        assert!(
            windows.take_at("a", 2, start + WINDOW).is_ok(),
            "a new window"
        );
        // A third key pushes out the oldest window; the map stays at two.
        assert!(windows.take_at("c", 2, start + WINDOW).is_ok());
        assert_eq!(windows.windows.lock().unwrap().len(), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_gate_runs_few_at_once_and_refuses_beyond_the_queue() {
        let gate = Arc::new(HashGate::default());
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..(HASH_CONCURRENCY + HASH_MAX_WAITING + 8) {
            let (gate, running, most) = (gate.clone(), running.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                gate.run(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(50));
                    running.fetch_sub(1, Ordering::SeqCst);
                })
                .await
            }));
        }
        let mut busy = 0;
        for task in tasks {
            if matches!(task.await.unwrap(), Err(GateError::Busy)) {
                busy += 1;
            }
        }
        assert!(most.load(Ordering::SeqCst) <= HASH_CONCURRENCY);
        assert!(busy >= 8, "{busy} refused");
    }
}
