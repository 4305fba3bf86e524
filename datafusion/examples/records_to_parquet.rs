//! Writes conversation records as Parquet in the interchange schema, so simulated records,
//! exported ones (the KPI tool's CSV input) and generated ones reach DataFusion the same way.
//!
//! ```text
//! cargo run --release -p switchboard-datafusion --example records_to_parquet -- csv IN.csv OUT.parquet
//! cargo run --release -p switchboard-datafusion --example records_to_parquet -- sim [SCENARIO.json] OUT_DIR
//! cargo run --release -p switchboard-datafusion --example records_to_parquet -- synthetic ROWS FILES OUT_DIR
//! ```
//!
//! - `csv`: read with switchboard's CSV reader (any column order, `1`/`0` flags; a field that
//!   does not parse stops the conversion naming its line). The record rules (response before
//!   the ask, …) are not applied here but by the KPI functions, as for every other source.
//! - `sim`: one replication of every policy of the scenario (default: the CX-team scenario
//!   shipped in `examples/scenarios/`), one file per policy.
//! - `synthetic`: the generator of the equality test, `ROWS` rows in `FILES` files.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use switchboard::kpi::csv::CsvReader;
use switchboard::sim::report::simulate;
use switchboard::sim::scenario::Scenario;
use switchboard_datafusion::{synthetic, write_parquet};

const CX_TEAM: &str = include_str!("../../examples/scenarios/cx-team.json");

fn main() {
    if let Err(e) = run(std::env::args().skip(1).collect()) {
        eprintln!("records_to_parquet: {e}");
        std::process::exit(1);
    }
}

fn run(args: Vec<String>) -> Result<(), String> {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    match a.as_slice() {
        ["csv", input, output] => csv(Path::new(input), Path::new(output)),
        ["sim", out] => sim(None, Path::new(out)),
        ["sim", scenario, out] => sim(Some(Path::new(scenario)), Path::new(out)),
        ["synthetic", rows, files, out] => {
            let rows: u64 = rows
                .parse()
                .map_err(|_| format!("ROWS: not a number: {rows}"))?;
            let files: u64 = files
                .parse()
                .ok()
                .filter(|&f| f > 0)
                .ok_or_else(|| format!("FILES: not a positive number: {files}"))?;
            let dir = PathBuf::from(out);
            std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            for f in 0..files {
                let path = dir.join(format!("part-{f}.parquet"));
                let range = rows * f / files..rows * (f + 1) / files;
                let n = write_parquet(synthetic::records(1, range), &path)
                    .map_err(|e| format!("{}: {e}", path.display()))?;
                println!("{}: {n} records", path.display());
            }
            Ok(())
        }
        _ => Err(
            "usage: csv IN.csv OUT.parquet | sim [SCENARIO.json] OUT_DIR | \
                  synthetic ROWS FILES OUT_DIR"
                .to_owned(),
        ),
    }
}

fn csv(input: &Path, output: &Path) -> Result<(), String> {
    let file = File::open(input).map_err(|e| format!("{}: {e}", input.display()))?;
    let mut reader =
        CsvReader::new(BufReader::new(file)).map_err(|e| format!("{}: {e}", input.display()))?;
    // A fallible iterator: the first parse error ends the conversion and is reported.
    let mut failure = None;
    let rows = std::iter::from_fn(|| match reader.read_record() {
        Ok(r) => r.map(|(_, rec)| rec),
        Err(e) => {
            failure = Some(e);
            None
        }
    });
    let n = write_parquet(rows, output).map_err(|e| format!("{}: {e}", output.display()))?;
    if let Some(e) = failure {
        let _ = std::fs::remove_file(output);
        return Err(format!("{}: {e}", input.display()));
    }
    println!("{}: {n} records", output.display());
    Ok(())
}

fn sim(scenario: Option<&Path>, out: &Path) -> Result<(), String> {
    let text = match scenario {
        Some(p) => std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?,
        None => CX_TEAM.to_owned(),
    };
    let scenario: Scenario = serde_json::from_str(&text).map_err(|e| format!("scenario: {e}"))?;
    let report = simulate(&scenario, 1, true, &mut |_, _| {}).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    for run in report.runs {
        let name: String = run
            .policy
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        let path = out.join(format!("{name}-{}.parquet", run.replication));
        let n =
            write_parquet(run.records, &path).map_err(|e| format!("{}: {e}", path.display()))?;
        println!("{}: {n} records", path.display());
    }
    Ok(())
}
