//! Figures about the host and this process, read from procfs and statvfs for the `system` and
//! `process` metric families. Each read is a few microseconds of procfs on the scraping
//! shard's thread, once per scrape; a figure the OS does not give is `None`, never made up.

use std::cell::Cell;

/// statvfs of the data directory (shared with the segment store, which sizes preallocation by
/// it).
pub use shard::segments::{FsSpace, fs_space};

thread_local! {
    /// (busy, total) jiffies of all CPUs at this shard's previous scrape: the CPU usage gauge
    /// is the busy share between two scrapes. Per thread, so shards share nothing.
    static PREVIOUS_CPU: Cell<Option<(u64, u64)>> = const { Cell::new(None) };
}

/// Busy share of all CPUs since this thread's previous call (`None` on the first call).
pub fn cpu_usage_percent() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let (busy, total) = parse_cpu_line(stat.lines().next()?)?;
    let previous = PREVIOUS_CPU.with(|cell| cell.replace(Some((busy, total))));
    let (previous_busy, previous_total) = previous?;
    let elapsed = total
        .checked_sub(previous_total)
        .filter(|elapsed| *elapsed > 0)?;
    let busy = busy.saturating_sub(previous_busy);
    #[allow(clippy::cast_precision_loss)] // jiffy deltas are far below 2^52
    Some(busy as f64 * 100.0 / elapsed as f64)
}

/// (busy, total) jiffies from the `cpu` line of /proc/stat; idle and iowait are not busy.
fn parse_cpu_line(line: &str) -> Option<(u64, u64)> {
    let mut fields = line.split_ascii_whitespace();
    if fields.next()? != "cpu" {
        return None;
    }
    let values: Vec<u64> = fields.filter_map(|field| field.parse().ok()).collect();
    if values.len() < 5 {
        return None;
    }
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let total: u64 = values.iter().take(8).sum();
    let idle = values[3] + values[4];
    Some((total - idle, total))
}

/// (MemTotal, MemAvailable) in bytes.
pub fn memory() -> Option<(u64, u64)> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let field = |name: &str| {
        info.lines()
            .find_map(|line| line.strip_prefix(name))
            .and_then(|rest| {
                rest.trim()
                    .trim_end_matches("kB")
                    .trim()
                    .parse::<u64>()
                    .ok()
            })
            .map(|kib| kib * 1024)
    };
    Some((field("MemTotal:")?, field("MemAvailable:")?))
}

/// This process: CPU seconds, resident bytes, start time (seconds since 1970).
#[derive(Clone, Copy, Debug)]
pub struct ProcessStat {
    pub cpu_seconds: f64,
    pub resident_bytes: u64,
    pub start_unix_secs: u64,
}

pub fn process() -> Option<ProcessStat> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces; the fields after its ')' are plain.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_ascii_whitespace().collect();
    // Field numbers of proc(5), offset by the 2 fields before the name's end.
    let field = |number: usize| fields.get(number - 3)?.parse::<u64>().ok();
    let ticks = clock_ticks_per_second()?;
    let boot_time = std::fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("btime "))
        .and_then(|value| value.trim().parse::<u64>().ok())?;
    #[allow(clippy::cast_precision_loss)] // tick counts are far below 2^52
    let cpu_seconds = (field(14)? + field(15)?) as f64 / ticks as f64;
    Some(ProcessStat {
        cpu_seconds,
        resident_bytes: field(24)?.saturating_mul(page_size()?),
        start_unix_secs: boot_time + field(22)? / ticks,
    })
}

pub fn open_fds() -> Option<u64> {
    let entries = std::fs::read_dir("/proc/self/fd").ok()?;
    u64::try_from(entries.count()).ok()
}

fn clock_ticks_per_second() -> Option<u64> {
    // SAFETY: sysconf reads a constant of the system and has no memory effects.
    #[allow(unsafe_code)]
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    u64::try_from(ticks).ok().filter(|ticks| *ticks > 0)
}

fn page_size() -> Option<u64> {
    // SAFETY: as above.
    #[allow(unsafe_code)]
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    u64::try_from(size).ok().filter(|size| *size > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cpu_line_splits_busy_from_idle() {
        let line = "cpu  100 5 50 800 20 3 2 0 0 0";
        assert_eq!(parse_cpu_line(line), Some((160, 980)));
        assert_eq!(parse_cpu_line("cpu0 1 2 3 4 5"), None);
    }

    #[test]
    fn this_process_is_readable() {
        let stat = process().expect("procfs is mounted where tests run");
        assert!(stat.resident_bytes > 0);
        assert!(stat.start_unix_secs > 1_600_000_000);
        assert!(open_fds().is_some_and(|fds| fds >= 3));
        assert!(memory().is_some_and(|(total, available)| total >= available));
    }
}
