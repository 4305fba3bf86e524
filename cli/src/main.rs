//! The `switchboard` binary; the commands live in the `switchboard_cli` library.

use clap::Parser;

fn main() -> std::process::ExitCode {
    switchboard_cli::execute(switchboard_cli::Cli::parse())
}
