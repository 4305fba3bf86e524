//! Per-tenant counters and the Prometheus text rendering of `/metrics`.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use switchboard::Engine;

/// Histogram bucket bounds in seconds: an apply is microseconds, a FULL
/// commit is an fsync (milliseconds), so the range spans both.
const BOUNDS: [f64; 12] = [
    0.000_01, 0.000_05, 0.000_1, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 1.0,
];

/// A fixed-bucket latency histogram.
#[derive(Default)]
pub struct Histogram {
    buckets: [AtomicU64; BOUNDS.len()],
    count: AtomicU64,
    sum_ns: AtomicU64,
}

impl Histogram {
    /// Counts one observation.
    pub fn observe(&self, d: Duration) {
        let s = d.as_secs_f64();
        for (b, bound) in self.buckets.iter().zip(BOUNDS) {
            if s <= bound {
                b.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_ns
            .fetch_add(d.as_nanos().min(u64::MAX as u128) as u64, Ordering::Relaxed);
    }

    fn render(&self, out: &mut String, name: &str, tenant: &str) {
        for (b, bound) in self.buckets.iter().zip(BOUNDS) {
            let _ = writeln!(
                out,
                "{name}_bucket{{tenant=\"{tenant}\",le=\"{bound}\"}} {}",
                b.load(Ordering::Relaxed)
            );
        }
        let n = self.count.load(Ordering::Relaxed);
        let _ = writeln!(out, "{name}_bucket{{tenant=\"{tenant}\",le=\"+Inf\"}} {n}");
        let sum = self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "{name}_sum{{tenant=\"{tenant}\"}} {sum}");
        let _ = writeln!(out, "{name}_count{{tenant=\"{tenant}\"}} {n}");
    }
}

/// One tenant's counters since this process started.
#[derive(Default)]
pub struct Metrics {
    decisions: AtomicU64,
    refused: AtomicU64,
    forbidden: AtomicU64,
    limited: AtomicU64,
    resyncs: AtomicU64,
    /// Engine time per applied or refused event.
    pub apply: Histogram,
    /// Time to commit a batch (the fsync a client waits for).
    pub commit: Histogram,
}

impl Metrics {
    /// Adds committed decisions.
    pub fn add_decisions(&self, n: u64) {
        self.decisions.fetch_add(n, Ordering::Relaxed);
    }
    /// Counts a refused event.
    pub fn inc_refused(&self) {
        self.refused.fetch_add(1, Ordering::Relaxed);
    }
    /// Counts a request refused with 403 for this tenant.
    pub fn inc_forbidden(&self) {
        self.forbidden.fetch_add(1, Ordering::Relaxed);
    }
    /// Counts a stream that fell behind the live channel and went back to
    /// the table.
    pub fn inc_resync(&self) {
        self.resyncs.fetch_add(1, Ordering::Relaxed);
    }
    /// Counts a request refused with 429.
    pub fn inc_limited(&self) {
        self.limited.fetch_add(1, Ordering::Relaxed);
    }
}

/// Escapes a label value (tenant names come from the operator's file).
fn label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Writes the `# HELP`/`# TYPE` lines once per family.
fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A counter family: name, help, how to read it.
type Counter = (&'static str, &'static str, fn(&Metrics) -> u64);

/// Renders every tenant's figures; `tenants` gives (name, engine, metrics).
pub fn render<'a>(tenants: impl Iterator<Item = (&'a str, &'a Engine, &'a Metrics)>) -> String {
    let rows: Vec<_> = tenants.collect();
    let mut out = String::new();
    family(
        &mut out,
        "switchboard_events_applied_total",
        "counter",
        "Events applied (the engine's input count, kept across restarts).",
    );
    for (t, e, _) in &rows {
        let _ = writeln!(
            out,
            "switchboard_events_applied_total{{tenant=\"{}\"}} {}",
            label(t),
            e.inputs_applied()
        );
    }
    let counters: [Counter; 5] = [
        (
            "switchboard_decisions_total",
            "Decisions committed since this process started.",
            |m| m.decisions.load(Ordering::Relaxed),
        ),
        (
            "switchboard_events_refused_total",
            "Events the engine refused since this process started.",
            |m| m.refused.load(Ordering::Relaxed),
        ),
        (
            "switchboard_forbidden_total",
            "Requests for this tenant made with another tenant's key.",
            |m| m.forbidden.load(Ordering::Relaxed),
        ),
        (
            "switchboard_stream_resyncs_total",
            "Decision streams that fell behind and caught up from the table.",
            |m| m.resyncs.load(Ordering::Relaxed),
        ),
        (
            "switchboard_rate_limited_total",
            "Requests refused with 429.",
            |m| m.limited.load(Ordering::Relaxed),
        ),
    ];
    for (name, help, get) in counters {
        family(&mut out, name, "counter", help);
        for (t, _, m) in &rows {
            let _ = writeln!(out, "{name}{{tenant=\"{}\"}} {}", label(t), get(m));
        }
    }
    family(
        &mut out,
        "switchboard_waiting",
        "gauge",
        "Conversations waiting for an operator, per tier.",
    );
    for (t, e, _) in &rows {
        let mut per_tier = std::collections::BTreeMap::new();
        for tier in &e.policy().tiers {
            per_tier.insert(tier.id.0, 0u64);
        }
        for id in e.waiting() {
            if let Some(c) = e.conversation(id) {
                *per_tier.entry(c.spec.tier.0).or_default() += 1;
            }
        }
        for (tier, n) in per_tier {
            let _ = writeln!(
                out,
                "switchboard_waiting{{tenant=\"{}\",tier=\"{tier}\"}} {n}",
                label(t)
            );
        }
    }
    family(
        &mut out,
        "switchboard_longest_wait_seconds",
        "gauge",
        "Longest current wait for an operator, at the tenant's last event time.",
    );
    for (t, e, _) in &rows {
        let w = e.real_time().longest_wait.map_or(0, |(_, m)| m.0);
        let _ = writeln!(
            out,
            "switchboard_longest_wait_seconds{{tenant=\"{}\"}} {}",
            label(t),
            w as f64 / 1000.0
        );
    }
    for (name, help, pick) in [
        (
            "switchboard_apply_seconds",
            "Engine time per event.",
            (|m: &Metrics| &m.apply) as fn(&Metrics) -> &Histogram,
        ),
        (
            "switchboard_commit_seconds",
            "Time to commit one batch to the log (fsync included).",
            |m: &Metrics| &m.commit,
        ),
    ] {
        family(&mut out, name, "histogram", help);
        for (t, _, m) in &rows {
            pick(m).render(&mut out, name, &label(t));
        }
    }
    out
}
