//! Fitting a scenario to records (arrival rates per weekday and interval, handle-time
//! families, patience from censored waits), and reading the bank's call logs as records.

use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::PyDict;
use switchboard::kpi::bank::{BankOptions, read_file};
use switchboard::kpi::{Ingest, IngestOptions, KpiConfig};
use switchboard::sim::{FitError, FitOptions, FitReport, fit_records};

use crate::errors;
use crate::records::{self, RecordTable};
use crate::sim::PyScenario;

/// The argument or field a fit error is about.
fn fit_error(e: &FitError) -> PyErr {
    let field = match e {
        FitError::IntervalMinutes(_) => "interval_minutes".to_string(),
        FitError::OutOfOrder { field, .. } => format!("records.{field}"),
        FitError::Undeclared { field, .. } => format!("base.{field}"),
        FitError::NoRate { .. } => "rate_fallback".to_string(),
        _ => "records".to_string(),
    };
    errors::invalid(&field, e)
}

/// What `fit` estimated; `to_scenario(base)` turns it into a scenario to simulate.
#[pyclass(frozen, name = "Fit", module = "switchboard.sim")]
pub struct PyFit {
    inner: FitReport,
}

#[pymethods]
impl PyFit {
    /// Everything estimated, as plain Python values: arrival rates per weekday × interval
    /// (with the fallback used where a cell had too few asks), handle time per (channel, tier)
    /// and pooled with both families' parameters, AIC and KS, patience (Kaplan–Meier and the
    /// censored exponential MLE beside the naive mean), message shares, skipped records.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        errors::to_python(py, &self.inner)
    }

    /// `base` with the fitted arrivals, mixes, handle time and patience (its policy, roster
    /// and compared policies kept): a scenario to simulate or edit.
    fn to_scenario(&self, base: &Bound<'_, PyAny>) -> PyResult<PyScenario> {
        let base = PyScenario::from_any(base)?.inner;
        let sc = self.inner.to_scenario(&base).map_err(|e| fit_error(&e))?;
        sc.validate().map_err(|e| errors::scenario(&e))?;
        Ok(PyScenario { inner: sc })
    }

    fn __repr__(&self) -> String {
        format!("Fit(records={})", self.inner.records)
    }
}

/// Fits a scenario's random parts to lifecycle records (a table with `__arrow_c_stream__` —
/// pyarrow, pandas, polars, a `RecordTable` — or a dict of columns, ordered by `asked_at`).
/// Keyword options are `FitOptions` fields (`interval_minutes`, `min_asks`, `rate_fallback`,
/// `min_handle_times`, `min_waits`, `select_by`, `profile_day`, …); an unknown one or a wrong
/// value raises `InvalidInput` naming it. Runs with the GIL released.
#[pyfunction]
#[pyo3(signature = (records, **options))]
fn fit(
    py: Python<'_>,
    records: &Bound<'_, PyAny>,
    options: Option<&Bound<'_, PyDict>>,
) -> PyResult<PyFit> {
    let opts: FitOptions = match options {
        Some(d) => errors::from_python(d.as_any(), "options")?,
        None => FitOptions::default(),
    };
    let recs = records::read(records, "records", false)?;
    let inner = py
        .detach(|| fit_records(&recs, &opts))
        .map_err(|e| fit_error(&e))?;
    Ok(PyFit { inner })
}

/// Reads one month of the anonymous bank's call log (the `anonymous_bank_1999-*.txt` files)
/// as interchange records, with the Rust converter's rules (phantom calls and hang-ups in
/// the voice menu left out, counted); `zero_wait_hang_ups` is `"abandoned"` (default) or
/// `"not_offered"`. Returns the records as a table and the converter's counts.
#[pyfunction]
#[pyo3(signature = (path, zero_wait_hang_ups = None))]
fn read_bank<'py>(
    py: Python<'py>,
    path: PathBuf,
    zero_wait_hang_ups: Option<&Bound<'py, PyAny>>,
) -> PyResult<(RecordTable, Bound<'py, PyAny>)> {
    let mut options = BankOptions::default();
    if let Some(z) = zero_wait_hang_ups {
        options.zero_wait_hang_ups = errors::from_python(z, "zero_wait_hang_ups")?;
    }
    let mut ingest =
        Ingest::new(KpiConfig::default(), IngestOptions::default()).map_err(|e| errors::kpi(&e))?;
    let bank = py
        .detach(|| read_file(&path, options, &mut ingest))
        .map_err(|e| errors::error(errors::Kind::Invalid, Some("path"), &e))?;
    let batch = records::batch_of(&bank.records, Vec::new())?;
    let table = RecordTable::new(vec![batch.clone()], batch.schema());
    Ok((table, errors::to_python(py, &bank.summary)?))
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyFit>()?;
    m.add_function(wrap_pyfunction!(fit, m)?)?;
    m.add_function(wrap_pyfunction!(read_bank, m)?)?;
    Ok(())
}
