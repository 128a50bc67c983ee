//! `maxiofs verify --data-dir DIR`: checks a stopped data directory offline and reports every
//! problem found (see `shard::check` for what is checked). Refuses to run while a server holds
//! the directory's lock, since a live server changes the files under the check.

use std::path::Path;

/// Returns whether the data directory is clean; `Err` when it cannot be checked at all.
pub fn run(data_dir: &Path) -> Result<bool, Box<dyn std::error::Error>> {
    if !data_dir.join("FORMAT").is_file() {
        return Err(format!("{} is not a maxiofs data directory", data_dir.display()).into());
    }
    let _lock = runtime::bootstrap::lock_data_dir(data_dir)
        .map_err(|error| format!("{error}; stop the server before verifying"))?;
    let partitions_dir = data_dir.join("partitions");
    let mut partition_dirs = Vec::new();
    for entry in std::fs::read_dir(&partitions_dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            partition_dirs.push(entry.path());
        }
    }
    partition_dirs.sort();
    let started = std::time::Instant::now();
    let mut totals = shard::check::PartitionCheck::default();
    let mut problems = 0u64;
    for dir in &partition_dirs {
        let check = shard::check::check_partition(dir);
        let name = dir
            .file_name()
            .map_or_else(String::new, |name| name.to_string_lossy().into_owned());
        for problem in &check.problems {
            println!("partition {name}: {problem}");
        }
        if check.problems_not_listed > 0 {
            println!(
                "partition {name}: {} more problems not listed",
                check.problems_not_listed
            );
        }
        problems += check.problems.len() as u64 + check.problems_not_listed;
        totals.objects += check.objects;
        totals.parts += check.parts;
        totals.bytes += check.bytes;
        totals.blocks_verified += check.blocks_verified;
        totals.unverified_extents += check.unverified_extents;
    }
    println!(
        "verified {} partitions: {} objects, {} parts, {} bytes, {} blocks checksummed, \
         {} extents without checksums, {} problems, {} ms",
        partition_dirs.len(),
        totals.objects,
        totals.parts,
        totals.bytes,
        totals.blocks_verified,
        totals.unverified_extents,
        problems,
        started.elapsed().as_millis()
    );
    Ok(problems == 0)
}
