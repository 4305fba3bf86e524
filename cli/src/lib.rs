//! `switchboard-cli`: the command-line face of the switchboard library, as a library (so its
//! documentation builds under its own name) and the thin `switchboard` binary over it.
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
//!
//! Durations on the command line accept `20s`, `5m`, `1h`, `250ms` or plain seconds
//! ([`units::parse_duration`]).

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub mod kpi;
pub mod simulate;
pub mod staffing;
pub mod units;

/// switchboard: simulate routing policies, compute contact-center KPIs from interchange CSV or
/// Anonymous Bank records, and size teams with Erlang C / Erlang A.
#[derive(Debug, Parser)]
#[command(name = "switchboard", version, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Compare routing policies on a simulated contact center.
    Simulate(simulate::Args),
    /// KPI dashboard over interchange CSV files or Anonymous Bank records.
    Kpi(kpi::Args),
    /// Operators needed for a service-level target (Erlang C, or Erlang A with patience).
    Staffing(staffing::Args),
}

/// Runs a parsed command line: the output goes to stdout, an error to stderr as
/// `error: …`; the exit code is 1 on error. (Usage errors never get here: [`Cli::parse`]
/// reports them and exits with 2.)
pub fn execute(cli: Cli) -> ExitCode {
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
pub(crate) fn read_text(path: &str) -> anyhow::Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {path}: {}", io_reason(&e)))
}

/// Opens a file for buffered reading; the error says `cannot read PATH: REASON`.
pub(crate) fn open(path: &str) -> anyhow::Result<std::io::BufReader<std::fs::File>> {
    std::fs::File::open(path)
        .map(std::io::BufReader::new)
        .map_err(|e| anyhow::anyhow!("cannot read {path}: {}", io_reason(&e)))
}

/// An I/O error's message without the trailing ` (os error N)`.
pub(crate) fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.rfind(" (os error ") {
        Some(i) if text.ends_with(')') => text[..i].to_string(),
        _ => text,
    }
}
