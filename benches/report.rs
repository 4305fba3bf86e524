//! Shared bench settings and the side files the report script reads.
//!
//! Criterion gives means and medians of per-iteration means; the percentile
//! and memory figures are written here as small JSON files under
//! `$CARGO_TARGET_DIR/switchboard-bench/` (or `target/switchboard-bench/`).

use std::path::PathBuf;
use std::time::Duration;

/// `SWITCHBOARD_BENCH_QUICK=1`: fewer scales and strategies, shorter runs.
pub fn quick() -> bool {
    std::env::var("SWITCHBOARD_BENCH_QUICK").is_ok_and(|v| v != "0" && !v.is_empty())
}

/// `SWITCHBOARD_BENCH_STEPS=N`: the decision benches take exactly `N`
/// steps each, outside criterion (whose sample counts follow the clock), so
/// that instruction counts under callgrind compare runs of the same steps.
pub fn fixed_steps() -> Option<usize> {
    let v = std::env::var("SWITCHBOARD_BENCH_STEPS").ok()?;
    match v.parse() {
        Ok(n) => Some(n),
        Err(_) => panic!("SWITCHBOARD_BENCH_STEPS={v:?}: expected a whole number of steps"),
    }
}

/// `SWITCHBOARD_BENCH_ONLY=floor,assign`: run only these modules
/// (`floor`, `memory`, `assign`, `throughput`). Default: all.
pub fn enabled(module: &str) -> bool {
    match std::env::var("SWITCHBOARD_BENCH_ONLY") {
        Ok(v) if !v.is_empty() => v.split(',').any(|m| m.trim() == module),
        _ => true,
    }
}

/// A comma-separated list from the environment, if set and non-empty.
pub fn list(var: &str) -> Option<Vec<String>> {
    let v = std::env::var(var).ok().filter(|v| !v.is_empty())?;
    Some(v.split(',').map(|x| x.trim().to_string()).collect())
}

pub fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// `<target>/switchboard-bench`, where `scripts/bench_report.py` reads. Cargo
/// runs a bench from its package directory (`benches/`), so without
/// `CARGO_TARGET_DIR` the target directory is found from this executable's
/// path (`<target>/release/deps/bench-…`), not from the working directory.
fn out_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .or_else(|| {
            let exe = std::env::current_exe().ok()?;
            Some(exe.parent()?.parent()?.parent()?.to_path_buf())
        })
        .unwrap_or_else(|| PathBuf::from("target"));
    target.join("switchboard-bench")
}

/// Writes `{"key": value, ...}` to `switchboard-bench/<kind>/<name>.json`.
pub fn write(kind: &str, name: &str, fields: &[(&str, String)]) {
    let dir = out_dir().join(kind);
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("cannot create {}: {e}", dir.display());
        return;
    }
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("  \"{k}\": {v}"))
        .collect();
    let path = dir.join(format!("{}.json", name.replace('/', "__")));
    if let Err(e) = std::fs::write(&path, format!("{{\n{}\n}}\n", body.join(",\n"))) {
        eprintln!("cannot write {}: {e}", path.display());
    }
}

pub fn quoted(s: &str) -> String {
    format!("\"{s}\"")
}

/// p50, p99, max and mean of nanosecond samples (sorts them).
pub fn percentiles(samples: &mut [u32]) -> (u32, u32, u32, f64) {
    if samples.is_empty() {
        return (0, 0, 0, 0.0);
    }
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    let mean = samples.iter().map(|&x| f64::from(x)).sum::<f64>() / samples.len() as f64;
    (at(0.50), at(0.99), samples[samples.len() - 1], mean)
}
