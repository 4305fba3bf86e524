//! `switchboard`: the command-line face of the switchboard library.
//!
//! ```text
//! switchboard simulate [SCENARIO.json] [--replications N] [--seed S] [--json]
//! switchboard kpi FILE... [--threshold 20s ...] [--policy POLICY.json] [--csv OUT_DIR] [--json] [--anonymous-bank]
//! switchboard staffing --rate PER_HOUR --handle SECONDS --target-sl PCT --within SECONDS [--patience SECONDS] [--max-occupancy PCT]
//! ```
//!
//! Every computation is the library's (`switchboard::sim`, `switchboard::kpi`,
//! `switchboard::staffing`); this crate parses arguments, reads files and prints.
//! Errors go to stderr as `error: …` naming the file (and, for bad rows, the line and
//! field) with exit code 1; usage errors exit with 2.

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod kpi;
mod simulate;
mod staffing;
mod units;

/// switchboard: simulate routing policies, compute contact-center KPIs from interchange CSV or
/// Anonymous Bank records, and size teams with Erlang C / Erlang A.
#[derive(Debug, Parser)]
#[command(name = "switchboard", version, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Compare routing policies on a simulated contact center.
    Simulate(simulate::Args),
    /// KPI dashboard over interchange CSV files or Anonymous Bank records.
    Kpi(kpi::Args),
    /// Operators needed for a service-level target (Erlang C, or Erlang A with patience).
    Staffing(staffing::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Simulate(a) => simulate::run(a),
        Command::Kpi(a) => kpi::run(a),
        Command::Staffing(a) => staffing::run(a),
    };
    match result.and_then(|text| emit(&text)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Writes the whole output to stdout at once; a closed pipe (`| head`) ends quietly.
fn emit(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(anyhow::Error::new(e).context("cannot write to stdout"))
        }
        _ => Ok(()),
    }
}

/// Reads a whole text file; the error says `cannot read PATH: REASON`.
fn read_text(path: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {path}: {}", io_reason(&e)))
}

/// Opens a file for buffered reading; the error says `cannot read PATH: REASON`.
fn open(path: &str) -> anyhow::Result<std::io::BufReader<std::fs::File>> {
    std::fs::File::open(path)
        .map(std::io::BufReader::new)
        .map_err(|e| anyhow::anyhow!("cannot read {path}: {}", io_reason(&e)))
}

/// An I/O error's message without the trailing ` (os error N)`.
fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text[..i].to_string(),
        _ => text,
    }
}
