//! The KPI calculators over records from Python: a mergeable accumulator (the Rust
//! [`KpiAccumulator`]) fed from Arrow tables (through `records.rs`) or a CSV file (the Rust CSV
//! reader), with the [`Ingest`] checks. The Python wrapper (`switchboard/kpi.py`) turns dicts
//! of columns into tables and documents the API.
//!
//! Every `add` runs into a fresh accumulator with the GIL released and is merged in only when
//! all rows went in, so a refused row leaves the accumulator as it was.

use std::fs::File;
use std::io::BufReader;
use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use switchboard::kpi::csv::read_csv;
use switchboard::kpi::{
    ConversationRecord, Ingest, IngestOptions, KpiAccumulator, KpiConfig, KpiError, SkipReason,
};

use crate::errors::{self, Kind};
use crate::records;

/// The config from a Python value (a dict, JSON text or `None` for the default), checked;
/// errors name `config.<path>`.
fn config_of(config: Option<&Bound<'_, PyAny>>) -> PyResult<KpiConfig> {
    let config = match config {
        None => KpiConfig::default(),
        Some(c) if c.is_none() => KpiConfig::default(),
        Some(c) => errors::from_python::<KpiConfig>(c, "config")?,
    };
    config.validate().map_err(|e| {
        let field = match e.field() {
            Some(f) => format!("config.{f}"),
            None if matches!(e, KpiError::InvalidPeriod { .. }) => "config.period".to_string(),
            None => "config".to_string(),
        };
        errors::invalid(&field, format!("{field}: {e}"))
    })?;
    Ok(config)
}

/// A row error of an in-memory table: the Rust error's 1-based line is the 0-based row + 1.
fn table_error(e: &KpiError) -> PyErr {
    let Some(line) = e.line() else {
        return errors::kpi(e);
    };
    let row = line.saturating_sub(1) as usize;
    let text = e.to_string();
    let rest = text
        .strip_prefix(&format!("line {line}: "))
        .unwrap_or(&text);
    let field = e.field().unwrap_or("records");
    records::row_error(field, row, format!("row {row}: {rest}"))
}

/// A CSV error: header errors name their column; row errors keep the physical line (attribute
/// `line`).
fn csv_error(e: &KpiError) -> PyErr {
    let err = match e {
        KpiError::MissingColumn { column } | KpiError::DuplicateColumn { column } => {
            errors::invalid(column, e)
        }
        KpiError::UnknownColumn { column } => errors::invalid(column, e),
        KpiError::Io { .. } | KpiError::EmptyInput => errors::invalid("records", e),
        _ => errors::kpi(e),
    };
    if let Some(line) = e.line() {
        Python::attach(|py| {
            let _ = err.value(py).setattr("line", line);
        });
    }
    err
}

fn options(strict_order: bool, detect_duplicates: bool, skip_bad_rows: bool) -> IngestOptions {
    IngestOptions {
        strict_order,
        detect_duplicates,
        skip_bad_rows,
    }
}

/// The mergeable KPI state (`switchboard.kpi.Accumulator` wraps it).
#[pyclass(name = "KpiAccumulator", module = "switchboard._switchboard")]
pub struct PyKpiAccumulator {
    acc: KpiAccumulator,
}

impl PyKpiAccumulator {
    /// Merges `part` (built with this config) in; it cannot fail, the configs being one.
    fn take(&mut self, part: &KpiAccumulator) -> PyResult<()> {
        self.acc.merge(part).map_err(|e| errors::kpi(&e))
    }
}

#[pymethods]
impl PyKpiAccumulator {
    #[new]
    #[pyo3(signature = (config=None))]
    fn new(config: Option<&Bound<'_, PyAny>>) -> PyResult<Self> {
        let acc = KpiAccumulator::new(config_of(config)?).map_err(|e| errors::kpi(&e))?;
        Ok(PyKpiAccumulator { acc })
    }

    /// Adds the rows of a table (a `RecordTable` or an object with `__arrow_c_stream__`).
    /// Returns the number of rows read.
    #[pyo3(signature = (records, strict_order=false, detect_duplicates=false, skip_bad_rows=false, ignore_unknown=false))]
    fn add_table(
        &mut self,
        py: Python<'_>,
        records: &Bound<'_, PyAny>,
        strict_order: bool,
        detect_duplicates: bool,
        skip_bad_rows: bool,
        ignore_unknown: bool,
    ) -> PyResult<usize> {
        let recs: Vec<ConversationRecord> = records::read(records, "records", ignore_unknown)?;
        let config = self.acc.config().clone();
        let opts = options(strict_order, detect_duplicates, skip_bad_rows);
        let part = py
            .detach(|| {
                let mut ingest = Ingest::new(config, opts)?;
                for (i, r) in recs.iter().enumerate() {
                    ingest.push(i as u64 + 1, r)?;
                }
                Ok::<_, KpiError>(ingest.into_accumulator())
            })
            .map_err(|e| table_error(&e))?;
        self.take(&part)?;
        Ok(recs.len())
    }

    /// Adds the rows of an interchange CSV file (the Rust reader). Returns the number of rows
    /// read.
    #[pyo3(signature = (path, strict_order=false, detect_duplicates=false, skip_bad_rows=false))]
    fn add_csv(
        &mut self,
        py: Python<'_>,
        path: PathBuf,
        strict_order: bool,
        detect_duplicates: bool,
        skip_bad_rows: bool,
    ) -> PyResult<u64> {
        let config = self.acc.config().clone();
        let opts = options(strict_order, detect_duplicates, skip_bad_rows);
        let file = File::open(&path)?;
        let part = py
            .detach(|| {
                let mut ingest = Ingest::new(config, opts)?;
                read_csv(BufReader::new(file), &mut ingest)?;
                Ok::<_, KpiError>(ingest.into_accumulator())
            })
            .map_err(|e| csv_error(&e))?;
        self.take(&part)?;
        Ok(part.records() + part.skipped_total())
    }

    /// Adds `other` into this one (the same config).
    fn merge(&mut self, other: PyRef<'_, PyKpiAccumulator>) -> PyResult<()> {
        self.acc.merge(&other.acc).map_err(|e| match e {
            KpiError::ConfigMismatch => errors::invalid(
                "config",
                "cannot merge accumulators built with different configs",
            ),
            e => errors::kpi(&e),
        })
    }

    /// The canonical, versioned byte encoding of the state.
    fn to_bytes<'py>(&self, py: Python<'py>) -> Bound<'py, PyBytes> {
        PyBytes::new(py, &self.acc.to_bytes())
    }

    /// Decodes `to_bytes` output; other bytes raise `BadEncoding`.
    #[staticmethod]
    fn from_bytes(data: &[u8]) -> PyResult<Self> {
        let acc = KpiAccumulator::from_bytes(data)
            .map_err(|e| errors::error(Kind::Encoding, Some("data"), e))?;
        Ok(PyKpiAccumulator { acc })
    }

    /// The KPI report as plain Python objects.
    fn report<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let report = py.detach(|| self.acc.report());
        errors::to_python(py, &report)
    }

    /// The config as plain Python objects.
    fn config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        errors::to_python(py, self.acc.config())
    }

    /// Valid records accumulated (in or out of the period).
    #[getter]
    fn records(&self) -> u64 {
        self.acc.records()
    }

    /// Valid records outside the period.
    #[getter]
    fn out_of_period(&self) -> u64 {
        self.acc.out_of_period()
    }

    /// Rows skipped per reason (every reason, zeros included).
    #[getter]
    fn skipped<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for r in SkipReason::ALL {
            d.set_item(r.name(), self.acc.skipped(r))?;
        }
        Ok(d)
    }

    /// Rows skipped for any reason.
    #[getter]
    fn skipped_total(&self) -> u64 {
        self.acc.skipped_total()
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyKpiAccumulator>()
            .is_ok_and(|o| o.borrow().acc == self.acc)
    }
}

/// Checks a KPI config and returns it normalised (defaults filled in).
#[pyfunction]
#[pyo3(signature = (config=None))]
fn kpi_config<'py>(
    py: Python<'py>,
    config: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    errors::to_python(py, &config_of(config)?)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyKpiAccumulator>()?;
    m.add_function(wrap_pyfunction!(kpi_config, m)?)?;
    Ok(())
}
