//! This process's memory as Linux reports it (`/proc/self/status`), for the benchmarks and the
//! upload reader's report: None where the file or the field is missing.

/// Resident memory now, in KiB.
pub fn current_rss_kib() -> Option<u64> {
    status_kib("VmRSS:")
}

/// The highest resident memory since the start (or since [`reset_peak_rss`]), in KiB.
pub fn peak_rss_kib() -> Option<u64> {
    status_kib("VmHWM:")
}

/// Starts the peak over from the memory resident now.
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
