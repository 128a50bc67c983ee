//! `maxiofs-load`: an S3 load generator for comparing servers on one machine.
//!
//! One thread per connection, each with its own keep-alive connection, signing every request
//! with SigV4 (`s3_proto::sigv4::sign`). Closed loop by default, open loop with `--rate`.
//! Reports ops/s, MB/s, p50/p99/p999 latencies and, given `--pid`, the server's CPU seconds
//! per operation from `/proc/PID/stat` (utime + stime of every thread), the figure that stays
//! stable on a shared machine where wall-clock numbers drift.
//!
//!   maxiofs-load --endpoint http://127.0.0.1:9000 --mix put --size 4KiB --keys 512 \
//!       --connections 32 --duration 10s --pid "$(pidof maxiofs)" --json put.json
//!
//! Versioning: `--versioned` turns versioning on for the bucket it creates, `--versions N`
//! writes each prepared key N times, and the `list-versions` mix pages ListObjectVersions:
//!
//!   maxiofs-load --bucket benchver --versioned --prepare --versions 100 --mix get ...

// Statistics are printed as floats from counters; the precision lost is far below the noise.
#![allow(
    clippy::cast_precision_loss,
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss
)]

mod http;
mod s3;
mod workload;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use serde::Serialize;

use s3::{PayloadSigning, Target};
use workload::{Mix, Op, Phase, Plan, Stats, empty_stats, prepare, random_payload, run_worker};

/// Most connections (threads) one run opens.
const CONNECTIONS_MAX: usize = 1024;
/// Longest measured phase.
const DURATION_MAX: Duration = Duration::from_hours(1);
/// Most versions `--versions` writes per key.
const VERSIONS_PER_KEY_MAX: u64 = 10_000;
/// Largest object size (the S3 single-PUT limit is 5 GiB; more than RAM is no benchmark).
const SIZE_BYTES_MAX: u64 = 1 << 30;

#[derive(Parser, Debug)]
#[command(
    name = "maxiofs-load",
    about = "S3 load generator (SigV4, closed and open loop)"
)]
struct Args {
    /// `http://host:port` of the server (plain HTTP only).
    #[arg(long, default_value = "http://127.0.0.1:9000")]
    endpoint: String,
    #[arg(long, env = "AWS_ACCESS_KEY_ID")]
    access_key: String,
    #[arg(long, env = "AWS_SECRET_ACCESS_KEY", hide_env_values = true)]
    secret_key: String,
    #[arg(long, default_value = "us-east-1")]
    region: String,
    #[arg(long, default_value = "bench")]
    bucket: String,
    /// Operations and weights: put, get, head, delete, list, list-versions, multipart, e.g.
    /// `get=70,put=30`. `list` pages ListObjectsV2 and `list-versions` ListObjectVersions
    /// through `--key-prefix`; one operation is the whole listing.
    #[arg(long, default_value = "put")]
    mix: String,
    /// Object size (bytes, or with KiB/MiB/GiB).
    #[arg(long, default_value = "4KiB", value_parser = parse_size)]
    size: u64,
    /// Part size for multipart uploads.
    #[arg(long, default_value = "8MiB", value_parser = parse_size)]
    part_size: u64,
    /// Number of distinct keys the operations pick from (uniformly).
    #[arg(long, default_value_t = 512)]
    keys: u64,
    /// Prefix of every key (LIST lists this prefix).
    #[arg(long, default_value = "k/")]
    key_prefix: String,
    /// Concurrent connections (one thread each).
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Measured time.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Time run before measuring (not counted, CPU not sampled).
    #[arg(long, default_value = "1s", value_parser = parse_duration)]
    warmup: Duration,
    /// Open loop: total requests per second over all connections. Closed loop when absent.
    #[arg(long)]
    rate: Option<f64>,
    /// Write every key once before measuring (needed for GET/HEAD/LIST phases).
    #[arg(long)]
    prepare: bool,
    /// Writes each prepared key this many times (with `--versioned`, GET then reads the latest
    /// of N versions and `list-versions` lists keys x N entries).
    #[arg(long, default_value_t = 1)]
    versions: u64,
    /// Turns versioning on (PutBucketVersioning, Enabled) for the bucket after creating it. A
    /// bucket never returns to unversioned: use a bucket name of its own.
    #[arg(long)]
    versioned: bool,
    /// Prepare keys with multipart uploads (`--part-size` parts) instead of single PUTs.
    #[arg(long)]
    prepare_multipart: bool,
    /// Body hashing: `unsigned` (UNSIGNED-PAYLOAD) or `signed` (SHA-256 checked by the server).
    #[arg(long, value_enum, default_value = "unsigned")]
    payload: PayloadSigning,
    /// Server process whose CPU time (utime + stime, all threads) is sampled around the phase.
    #[arg(long)]
    pid: Option<u32>,
    /// Name of the server or run, copied into the output.
    #[arg(long, default_value = "")]
    label: String,
    /// Also write the results as JSON to this file (`-` for stdout instead of the table).
    #[arg(long)]
    json: Option<String>,
}

fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(split);
    let value: u64 = digits.parse().map_err(|_| format!("bad size {text:?}"))?;
    let multiplier: u64 = match unit.trim() {
        "" | "B" => 1,
        "KiB" | "K" | "k" => 1 << 10,
        "MiB" | "M" => 1 << 20,
        "GiB" | "G" => 1 << 30,
        other => return Err(format!("unknown size unit {other:?}")),
    };
    let size = value
        .checked_mul(multiplier)
        .ok_or_else(|| format!("size {text:?} too large"))?;
    if size > SIZE_BYTES_MAX {
        return Err(format!("size above {SIZE_BYTES_MAX} bytes"));
    }
    Ok(size)
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (number, scale) = if let Some(ms) = text.strip_suffix("ms") {
        (ms, 0.001)
    } else if let Some(minutes) = text.strip_suffix('m') {
        (minutes, 60.0)
    } else {
        (text.strip_suffix('s').unwrap_or(text), 1.0)
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("bad duration {text:?}"))?;
    if !(0.0..=DURATION_MAX.as_secs_f64()).contains(&(value * scale)) {
        return Err(format!("duration {text:?} out of range"));
    }
    Ok(Duration::from_secs_f64(value * scale))
}

/// utime + stime of a process, all threads, in seconds.
fn cpu_seconds(pid: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // /proc reports in USER_HZ ticks, which Linux fixes at 100 for user space on every
    // architecture (sysconf would need unsafe code for the same answer).
    Some(ticks as f64 / 100.0)
}

#[derive(Serialize)]
struct OpReport {
    op: &'static str,
    ok: u64,
    errors: u64,
    not_found: u64,
    ops_per_sec: f64,
    mb_per_sec: f64,
    listed_keys: u64,
    p50_ms: f64,
    p99_ms: f64,
    p999_ms: f64,
    max_ms: f64,
    server_cpu_us_per_op: Option<f64>,
    ops_per_server_cpu_sec: Option<f64>,
    error_samples: Vec<String>,
}

#[derive(Serialize)]
struct Report {
    label: String,
    endpoint: String,
    mix: String,
    size_bytes: u64,
    keys: u64,
    versions: u64,
    versioned: bool,
    connections: usize,
    mode: String,
    payload: String,
    seconds: f64,
    server_pid: Option<u32>,
    server_cpu_seconds: Option<f64>,
    client_cpu_seconds: Option<f64>,
    total_ops: u64,
    total_errors: u64,
    ops_per_sec: f64,
    mb_per_sec: f64,
    server_cpu_us_per_op: Option<f64>,
    ops_per_server_cpu_sec: Option<f64>,
    ops: Vec<OpReport>,
}

fn main() {
    let args = Args::parse();
    match run(&args) {
        Ok(report) => print_report(&args, &report),
        Err(error) => {
            eprintln!("maxiofs-load: {error}");
            std::process::exit(1);
        }
    }
}

fn run(args: &Args) -> Result<Report, String> {
    let address = args
        .endpoint
        .strip_prefix("http://")
        .ok_or("only http:// endpoints are supported")?
        .trim_end_matches('/')
        .to_owned();
    if args.connections == 0 || args.connections > CONNECTIONS_MAX {
        return Err(format!("--connections must be 1..={CONNECTIONS_MAX}"));
    }
    if args
        .rate
        .is_some_and(|rate| !(rate > 0.0 && rate.is_finite()))
    {
        return Err("--rate must be positive".into());
    }
    let mix = Mix::parse(&args.mix)?;
    if !(1..=VERSIONS_PER_KEY_MAX).contains(&args.versions) {
        return Err(format!("--versions must be 1..={VERSIONS_PER_KEY_MAX}"));
    }
    let size_bytes = usize::try_from(args.size).map_err(|_| "size too large")?;
    let part_size_bytes = usize::try_from(args.part_size.max(1)).map_err(|_| "part too large")?;
    if mix.contains(Op::Multipart) || args.prepare_multipart {
        let parts = args.size.div_ceil(args.part_size.max(1));
        if parts > s3::PARTS_MAX {
            return Err("more than 10,000 parts per upload".into());
        }
    }
    let plan = Arc::new(Plan {
        target: Target {
            address,
            access_key: args.access_key.clone(),
            secret_key: args.secret_key.clone(),
            region: args.region.clone(),
            bucket: args.bucket.clone(),
            payload: args.payload,
        },
        mix,
        size_bytes,
        part_size_bytes,
        keys: args.keys.max(1),
        versions: args.versions,
        key_prefix: args.key_prefix.clone(),
        rate: args.rate,
        connections: args.connections,
        payload: random_payload(size_bytes, u64::from(std::process::id())),
    });
    let mut setup = s3::Client::new(&plan.target);
    setup.create_bucket().map_err(|error| error.to_string())?;
    if args.versioned {
        setup
            .enable_versioning()
            .map_err(|error| error.to_string())?;
    }
    if args.prepare || args.prepare_multipart {
        prepare(&plan, args.prepare_multipart)?;
    }

    let phase = Arc::new(Phase {
        measuring: AtomicBool::new(false),
        stop: AtomicBool::new(false),
    });
    let workers: Vec<_> = (0..args.connections)
        .map(|worker| {
            let plan = Arc::clone(&plan);
            let phase = Arc::clone(&phase);
            std::thread::Builder::new()
                .name(format!("load-{worker}"))
                .stack_size(256 * 1024)
                .spawn(move || run_worker(&plan, &phase, worker))
                .map_err(|error| format!("spawn worker: {error}"))
        })
        .collect::<Result<_, _>>()?;
    std::thread::sleep(args.warmup);
    let pid = args.pid.map(|pid| pid.to_string());
    let server_before = pid.as_deref().and_then(cpu_seconds);
    let client_before = cpu_seconds("self");
    let started = Instant::now();
    phase.measuring.store(true, Ordering::SeqCst);
    std::thread::sleep(args.duration);
    phase.stop.store(true, Ordering::SeqCst);
    let seconds = started.elapsed().as_secs_f64();
    let server_after = pid.as_deref().and_then(cpu_seconds);
    let client_after = cpu_seconds("self");
    let mut stats: Stats = empty_stats();
    for worker in workers {
        let worker_stats = worker.join().map_err(|_| "worker panicked")?;
        for (total, part) in stats.iter_mut().zip(&worker_stats) {
            total.merge(part);
        }
    }
    let server_cpu = server_before
        .zip(server_after)
        .map(|(before, after)| after - before);
    let client_cpu = client_before
        .zip(client_after)
        .map(|(before, after)| after - before);
    Ok(build_report(args, &stats, seconds, server_cpu, client_cpu))
}

fn per_op(cpu: Option<f64>, ops: u64) -> (Option<f64>, Option<f64>) {
    match cpu {
        Some(cpu) if ops > 0 && cpu > 0.0 => (Some(cpu * 1e6 / ops as f64), Some(ops as f64 / cpu)),
        _ => (None, None),
    }
}

fn build_report(
    args: &Args,
    stats: &Stats,
    seconds: f64,
    server_cpu: Option<f64>,
    client_cpu: Option<f64>,
) -> Report {
    let ms = |histogram: &hdrhistogram::Histogram<u64>, quantile: f64| {
        histogram.value_at_quantile(quantile) as f64 / 1000.0
    };
    let mut ops = Vec::new();
    for (op, entry) in Op::ALL.iter().zip(stats) {
        if entry.ok + entry.errors + entry.not_found == 0 {
            continue;
        }
        let (cpu_us, per_cpu_sec) = per_op(server_cpu, entry.ok);
        ops.push(OpReport {
            op: op.name(),
            ok: entry.ok,
            errors: entry.errors,
            not_found: entry.not_found,
            ops_per_sec: entry.ok as f64 / seconds,
            mb_per_sec: entry.bytes as f64 / seconds / 1e6,
            listed_keys: entry.listed_keys,
            p50_ms: ms(&entry.latency_us, 0.5),
            p99_ms: ms(&entry.latency_us, 0.99),
            p999_ms: ms(&entry.latency_us, 0.999),
            max_ms: entry.latency_us.max() as f64 / 1000.0,
            // Per-op CPU is only meaningful for a single-operation phase.
            server_cpu_us_per_op: if stats.iter().filter(|s| s.ok > 0).count() == 1 {
                cpu_us
            } else {
                None
            },
            ops_per_server_cpu_sec: if stats.iter().filter(|s| s.ok > 0).count() == 1 {
                per_cpu_sec
            } else {
                None
            },
            error_samples: entry.error_samples.clone(),
        });
    }
    let total_ops: u64 = stats.iter().map(|entry| entry.ok).sum();
    let total_bytes: u64 = stats.iter().map(|entry| entry.bytes).sum();
    let (cpu_us, per_cpu_sec) = per_op(server_cpu, total_ops);
    Report {
        label: args.label.clone(),
        endpoint: args.endpoint.clone(),
        mix: args.mix.clone(),
        size_bytes: args.size,
        keys: args.keys,
        versions: args.versions,
        versioned: args.versioned,
        connections: args.connections,
        mode: args
            .rate
            .map_or("closed".to_owned(), |rate| format!("open {rate}/s")),
        payload: format!("{:?}", args.payload).to_lowercase(),
        seconds,
        server_pid: args.pid,
        server_cpu_seconds: server_cpu,
        client_cpu_seconds: client_cpu,
        total_ops,
        total_errors: stats.iter().map(|entry| entry.errors).sum(),
        ops_per_sec: total_ops as f64 / seconds,
        mb_per_sec: total_bytes as f64 / seconds / 1e6,
        server_cpu_us_per_op: cpu_us,
        ops_per_server_cpu_sec: per_cpu_sec,
        ops,
    }
}

fn print_report(args: &Args, report: &Report) {
    let json = serde_json::to_string_pretty(report).unwrap_or_default();
    if args.json.as_deref() == Some("-") {
        println!("{json}");
        return;
    }
    if let Some(path) = &args.json
        && let Err(error) = std::fs::write(path, format!("{json}\n"))
    {
        eprintln!("maxiofs-load: writing {path}: {error}");
    }
    let optional = |value: Option<f64>, digits: usize| {
        value.map_or("-".to_owned(), |value| format!("{value:.digits$}"))
    };
    println!(
        "{} {} mix={} size={} keys={} versions={}{} connections={} {} payload={} {:.1}s",
        report.label,
        report.endpoint,
        report.mix,
        report.size_bytes,
        report.keys,
        report.versions,
        if report.versioned { " (versioned)" } else { "" },
        report.connections,
        report.mode,
        report.payload,
        report.seconds
    );
    println!(
        "{:<10} {:>9} {:>6} {:>6} {:>10} {:>9} {:>8} {:>8} {:>8} {:>9} {:>11}",
        "op",
        "ok",
        "err",
        "404",
        "ops/s",
        "MB/s",
        "p50 ms",
        "p99 ms",
        "p999 ms",
        "cpu us/op",
        "ops/cpu-s"
    );
    for op in &report.ops {
        println!(
            "{:<10} {:>9} {:>6} {:>6} {:>10.0} {:>9.1} {:>8.2} {:>8.2} {:>8.2} {:>9} {:>11}",
            op.op,
            op.ok,
            op.errors,
            op.not_found,
            op.ops_per_sec,
            op.mb_per_sec,
            op.p50_ms,
            op.p99_ms,
            op.p999_ms,
            optional(op.server_cpu_us_per_op, 1),
            optional(op.ops_per_server_cpu_sec, 0)
        );
        for sample in &op.error_samples {
            println!("    error: {sample}");
        }
    }
    println!(
        "{:<10} {:>9} {:>6} {:>6} {:>10.0} {:>9.1} {:>35} {:>9} {:>11}",
        "total",
        report.total_ops,
        report.total_errors,
        "",
        report.ops_per_sec,
        report.mb_per_sec,
        format!(
            "server cpu {} s, client cpu {} s",
            optional(report.server_cpu_seconds, 2),
            optional(report.client_cpu_seconds, 2)
        ),
        optional(report.server_cpu_us_per_op, 1),
        optional(report.ops_per_server_cpu_sec, 0)
    );
}

#[cfg(test)]
mod tests {
    use super::{parse_duration, parse_size};
    use std::time::Duration;

    #[test]
    fn sizes_and_durations_parse() {
        assert_eq!(parse_size("4096"), Ok(4096));
        assert_eq!(parse_size("4KiB"), Ok(4096));
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert!(parse_size("2GiB").is_err());
        assert!(parse_size("1PB").is_err());
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_mins(2)));
        assert!(parse_duration("-1s").is_err());
        assert!(parse_duration("2h").is_err());
    }
}
