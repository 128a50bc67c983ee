//! The workload: an operation mix over a key space, run by one thread per connection in
//! closed loop (each connection sends its next request when the last one finished) or open
//! loop (requests start on a fixed schedule; latency counts from the scheduled start, so a
//! slow server cannot hide queueing: no coordinated omission).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use rand::rngs::SmallRng;
use rand::{Rng, RngCore, SeedableRng};

use crate::s3::{Client, Target};

/// Latencies are recorded from 1 us to 10 minutes, 3 significant digits.
const LATENCY_US_MAX: u64 = 600_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Op {
    Put,
    Get,
    Head,
    Delete,
    List,
    Multipart,
    ListVersions,
}

impl Op {
    pub const ALL: [Op; 7] = [
        Op::Put,
        Op::Get,
        Op::Head,
        Op::Delete,
        Op::List,
        Op::Multipart,
        Op::ListVersions,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::Put => "put",
            Op::Get => "get",
            Op::Head => "head",
            Op::Delete => "delete",
            Op::List => "list",
            Op::Multipart => "multipart",
            Op::ListVersions => "list-versions",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Weighted operations, e.g. `get=70,put=20,head=5,delete=5` or just `put`.
#[derive(Clone, Debug)]
pub struct Mix {
    weights: Vec<(Op, u32)>,
    total: u32,
}

impl Mix {
    pub fn parse(text: &str) -> Result<Mix, String> {
        let mut weights = Vec::new();
        for item in text.split(',').filter(|item| !item.is_empty()) {
            let (name, weight) = item.split_once('=').unwrap_or((item, "1"));
            let op = Op::ALL
                .into_iter()
                .find(|op| op.name() == name.trim())
                .ok_or_else(|| format!("unknown operation {name:?}"))?;
            let weight: u32 = weight
                .trim()
                .parse()
                .map_err(|_| format!("bad weight in {item:?}"))?;
            if weight > 0 {
                weights.push((op, weight));
            }
        }
        let total = weights.iter().map(|(_, weight)| weight).sum();
        if total == 0 {
            return Err("empty operation mix".into());
        }
        Ok(Mix { weights, total })
    }

    pub fn contains(&self, op: Op) -> bool {
        self.weights.iter().any(|(candidate, _)| *candidate == op)
    }

    fn pick(&self, rng: &mut SmallRng) -> Op {
        let mut roll = rng.random_range(0..self.total);
        for (op, weight) in &self.weights {
            if roll < *weight {
                return *op;
            }
            roll -= weight;
        }
        self.weights[0].0
    }
}

/// Everything a worker needs, shared read-only.
pub struct Plan {
    pub target: Target,
    pub mix: Mix,
    pub size_bytes: usize,
    pub part_size_bytes: usize,
    pub keys: u64,
    /// Versions written per key by [`prepare`] (the latest is what GET reads); 1 = once.
    pub versions: u64,
    pub key_prefix: String,
    /// Total requests per second over all connections in open loop; `None` = closed loop.
    pub rate: Option<f64>,
    pub connections: usize,
    /// Random bytes, `size_bytes` plus slack; each PUT takes a slice at a random offset.
    pub payload: Vec<u8>,
}

impl Plan {
    pub fn key(&self, index: u64) -> String {
        format!("{}{index:08}", self.key_prefix)
    }

    fn body<'a>(&'a self, rng: &mut SmallRng) -> &'a [u8] {
        let slack = self.payload.len() - self.size_bytes;
        let offset = rng.random_range(0..=slack);
        &self.payload[offset..offset + self.size_bytes]
    }
}

/// Random (incompressible) payload with `slack` extra bytes so bodies differ per request.
pub fn random_payload(size_bytes: usize, seed: u64) -> Vec<u8> {
    let slack = 64 * 1024;
    let mut payload = vec![0_u8; size_bytes + slack];
    SmallRng::seed_from_u64(seed).fill_bytes(&mut payload);
    payload
}

/// Per-operation results of one worker (merged across workers by the caller).
pub struct OpStats {
    pub ok: u64,
    pub errors: u64,
    /// GET/HEAD/DELETE of a key that is not there (expected in mixes with DELETE).
    pub not_found: u64,
    /// Payload bytes moved by successful operations.
    pub bytes: u64,
    /// Keys returned by LIST operations (versions and delete markers for LIST-versions).
    pub listed_keys: u64,
    pub latency_us: Histogram<u64>,
    /// First few error descriptions, for the report.
    pub error_samples: Vec<String>,
}

/// Error descriptions kept per operation.
const ERROR_SAMPLES_MAX: usize = 5;

impl OpStats {
    pub fn new() -> OpStats {
        OpStats {
            ok: 0,
            errors: 0,
            not_found: 0,
            bytes: 0,
            listed_keys: 0,
            latency_us: Histogram::new_with_bounds(1, LATENCY_US_MAX, 3)
                .expect("valid histogram bounds"),
            error_samples: Vec::new(),
        }
    }

    pub fn merge(&mut self, other: &OpStats) {
        self.ok += other.ok;
        self.errors += other.errors;
        self.not_found += other.not_found;
        self.bytes += other.bytes;
        self.listed_keys += other.listed_keys;
        let _ = self.latency_us.add(&other.latency_us);
        for sample in &other.error_samples {
            if self.error_samples.len() < ERROR_SAMPLES_MAX {
                self.error_samples.push(sample.clone());
            }
        }
    }

    fn error(&mut self, description: String) {
        self.errors += 1;
        if self.error_samples.len() < ERROR_SAMPLES_MAX {
            self.error_samples.push(description);
        }
    }
}

pub type Stats = Vec<OpStats>;

pub fn empty_stats() -> Stats {
    Op::ALL.iter().map(|_| OpStats::new()).collect()
}

/// Flags shared by the main thread and the workers.
pub struct Phase {
    /// Set after the warm-up: operations that finish from now on are counted.
    pub measuring: AtomicBool,
    /// Set at the end: workers stop after their current operation.
    pub stop: AtomicBool,
}

/// Runs one worker until `phase.stop`; returns what it measured.
pub fn run_worker(plan: &Arc<Plan>, phase: &Arc<Phase>, worker: usize) -> Stats {
    let mut client = Client::new(&plan.target);
    let mut rng = SmallRng::seed_from_u64(0x5eed_0000 + worker as u64);
    let mut stats = empty_stats();
    let started = Instant::now();
    let interval = plan
        .rate
        .map(|rate| Duration::from_secs_f64(plan.connections as f64 / rate));
    let mut sent = 0_u32;
    while !phase.stop.load(Ordering::Relaxed) {
        let scheduled = match interval {
            Some(interval) => {
                // Spread the connections' schedules over one interval.
                let offset = interval.mul_f64(worker as f64 / plan.connections as f64);
                let at = started + offset + interval * sent;
                let now = Instant::now();
                if at > now {
                    std::thread::sleep(at - now);
                }
                at
            }
            None => Instant::now(),
        };
        sent = sent.saturating_add(1);
        let op = plan.mix.pick(&mut rng);
        let key = plan.key(rng.random_range(0..plan.keys.max(1)));
        let outcome = run_op(&mut client, plan, op, &key, &mut rng);
        if !phase.measuring.load(Ordering::Relaxed) || phase.stop.load(Ordering::Relaxed) {
            continue;
        }
        let elapsed_us = u64::try_from(scheduled.elapsed().as_micros()).unwrap_or(u64::MAX);
        let entry = &mut stats[op.index()];
        match outcome {
            Outcome::Ok { bytes, listed_keys } => {
                entry.ok += 1;
                entry.bytes += bytes;
                entry.listed_keys += listed_keys;
                let _ = entry.latency_us.record(elapsed_us.clamp(1, LATENCY_US_MAX));
            }
            Outcome::NotFound => entry.not_found += 1,
            Outcome::Failed(description) => entry.error(description),
        }
    }
    stats
}

enum Outcome {
    Ok { bytes: u64, listed_keys: u64 },
    NotFound,
    Failed(String),
}

fn run_op(client: &mut Client, plan: &Plan, op: Op, key: &str, rng: &mut SmallRng) -> Outcome {
    let size = plan.size_bytes as u64;
    let result = match op {
        Op::Put => client.put(key, plan.body(rng)).map(|r| (r, size, 0)),
        Op::Get => client.get(key).map(|r| {
            let bytes = r.body_bytes;
            (r, bytes, 0)
        }),
        Op::Head => client.head(key).map(|r| (r, 0, 0)),
        Op::Delete => client.delete(key).map(|r| (r, 0, 0)),
        Op::List => client
            .list_all(&plan.key_prefix)
            .map(|(r, keys)| (r, 0, keys)),
        Op::ListVersions => client
            .list_versions_all(&plan.key_prefix)
            .map(|(r, entries)| (r, 0, entries)),
        Op::Multipart => client
            .multipart(key, plan.body(rng), plan.part_size_bytes)
            .map(|r| (r, size, 0)),
    };
    match result {
        Ok((response, bytes, listed_keys)) => match response.status {
            200 | 204 => {
                if op == Op::Get && bytes != size {
                    Outcome::Failed(format!("GET {key}: {bytes} bytes, expected {size}"))
                } else {
                    Outcome::Ok { bytes, listed_keys }
                }
            }
            404 if matches!(op, Op::Get | Op::Head) => Outcome::NotFound,
            status => Outcome::Failed(format!("{} {key}: HTTP {status}", op.name())),
        },
        Err(error) => Outcome::Failed(format!("{} {key}: {error}", op.name())),
    }
}

/// Writes every key `plan.versions` times (not measured), spread over `connections` threads;
/// a key's versions are written in order by one thread, so the last body is the latest.
pub fn prepare(plan: &Arc<Plan>, multipart: bool) -> Result<(), String> {
    let threads: Vec<_> = (0..plan.connections)
        .map(|worker| {
            let plan = Arc::clone(plan);
            std::thread::spawn(move || -> Result<(), String> {
                let mut client = Client::new(&plan.target);
                let mut rng = SmallRng::seed_from_u64(worker as u64);
                let mut index = worker as u64;
                while index < plan.keys {
                    let key = plan.key(index);
                    for _ in 0..plan.versions.max(1) {
                        let body = plan.body(&mut rng);
                        let response = if multipart {
                            client.multipart(&key, body, plan.part_size_bytes)
                        } else {
                            client.put(&key, body)
                        }
                        .map_err(|error| format!("prepare {key}: {error}"))?;
                        if response.status != 200 {
                            return Err(format!("prepare {key}: HTTP {}", response.status));
                        }
                    }
                    index += plan.connections as u64;
                }
                Ok(())
            })
        })
        .collect();
    for thread in threads {
        thread
            .join()
            .map_err(|_| "prepare thread panicked".to_owned())??;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Mix, Op};
    use rand::SeedableRng;
    use rand::rngs::SmallRng;

    #[test]
    fn mix_parses_and_picks_by_weight() {
        let mix = Mix::parse("get=3,put=1,head=0").expect("valid mix");
        assert!(mix.contains(Op::Get) && mix.contains(Op::Put) && !mix.contains(Op::Head));
        let mut rng = SmallRng::seed_from_u64(1);
        let gets = (0..4000).filter(|_| mix.pick(&mut rng) == Op::Get).count();
        assert!((2700..3300).contains(&gets), "{gets}");
        assert!(Mix::parse("get=x").is_err());
        assert!(Mix::parse("copy").is_err());
        assert!(Mix::parse("put=0").is_err());
        assert_eq!(
            Mix::parse("list").expect("valid").weights,
            vec![(Op::List, 1)]
        );
        assert_eq!(
            Mix::parse("list-versions").expect("valid").weights,
            vec![(Op::ListVersions, 1)]
        );
    }
}
