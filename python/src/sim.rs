//! Scenarios and the simulator: a scenario from a dict, JSON text or file; `simulate` with the
//! GIL released and a progress callback that can stop it; the report as Python objects.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::{ArrayRef, StringArray, UInt32Array};

use pyo3::exceptions::PyKeyboardInterrupt;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use switchboard::sim::report::{Estimate, Headline, SimReport, simulate_until};
use switchboard::sim::run::SimError;
use switchboard::sim::scenario::{Scenario, Stop};

use crate::errors;
use crate::records::{self, RecordTable};

/// The scenarios shipped in the repository's `examples/scenarios/`, by name.
const BUILTIN: [(&str, &str); 4] = [
    (
        "cx-team",
        include_str!("../../examples/scenarios/cx-team.json"),
    ),
    ("mm20", include_str!("../../examples/scenarios/mm20.json")),
    (
        "queues",
        include_str!("../../examples/scenarios/queues.json"),
    ),
    (
        "evening-drop",
        include_str!("../../examples/scenarios/evening-drop.json"),
    ),
];

/// A validated scenario.
#[pyclass(frozen, name = "Scenario", module = "switchboard.sim")]
#[derive(Clone)]
pub struct PyScenario {
    pub inner: Scenario,
}

impl PyScenario {
    fn checked(inner: Scenario) -> PyResult<Self> {
        inner.validate().map_err(|e| errors::scenario(&e))?;
        Ok(PyScenario { inner })
    }

    /// A scenario from anything `Scenario(...)` takes, or a `Scenario`.
    pub fn from_any(spec: &Bound<'_, PyAny>) -> PyResult<Self> {
        if let Ok(s) = spec.cast::<PyScenario>() {
            return Ok(s.get().clone());
        }
        Self::new(spec)
    }
}

/// The text of a JSON file named by a `str` that does not start with `{`, or by an
/// `os.PathLike`; `None` for other values (read as data).
fn file_text(spec: &Bound<'_, PyAny>, arg: &str) -> PyResult<Option<String>> {
    let path: Option<PathBuf> = if let Ok(s) = spec.extract::<String>() {
        if s.trim_start().starts_with('{') {
            None
        } else {
            Some(PathBuf::from(s))
        }
    } else if spec.hasattr("__fspath__")? {
        Some(spec.extract::<PathBuf>()?)
    } else {
        None
    };
    match path {
        None => Ok(None),
        Some(p) => std::fs::read_to_string(&p)
            .map(Some)
            .map_err(|e| errors::invalid(arg, format!("{arg}: cannot read {}: {e}", p.display()))),
    }
}

#[pymethods]
impl PyScenario {
    /// A scenario from a dict, JSON text (a `str` starting with `{`), or a path to a JSON
    /// file (`str` or `pathlib.Path`). Checked at once: an invalid field raises
    /// `InvalidInput` naming it.
    #[new]
    fn new(spec: &Bound<'_, PyAny>) -> PyResult<Self> {
        let inner: Scenario = match file_text(spec, "scenario")? {
            Some(text) => {
                let text = pyo3::types::PyString::new(spec.py(), &text);
                errors::from_python(text.as_any(), "scenario")?
            }
            None => errors::from_python(spec, "scenario")?,
        };
        Self::checked(inner)
    }

    /// A scenario shipped with switchboard: `cx-team` (the default: manual picking against
    /// auto-assignment on a virtual CX team), `mm20` (M/M/20 at ρ = 0.9), `queues`,
    /// `evening-drop`.
    #[staticmethod]
    #[pyo3(signature = (name = "cx-team"))]
    fn builtin(py: Python<'_>, name: &str) -> PyResult<Self> {
        let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name) else {
            let names: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
            return Err(errors::error(
                errors::Kind::Unknown,
                Some("name"),
                format!("no built-in scenario {name:?}; there are {names:?}"),
            ));
        };
        Self::new(pyo3::types::PyString::new(py, text).as_any())
    }

    /// The names `builtin` takes.
    #[staticmethod]
    fn builtin_names() -> Vec<&'static str> {
        BUILTIN.iter().map(|(n, _)| *n).collect()
    }

    /// The scenario as plain Python values (edit and pass back to `Scenario`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        errors::to_python(py, &self.inner)
    }

    /// The scenario as JSON text.
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string_pretty(&self.inner).map_err(|e| errors::invalid("scenario", e))
    }

    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }

    #[getter]
    fn seed(&self) -> u64 {
        self.inner.seed
    }

    /// The compared policies' names, in order.
    #[getter]
    fn policies(&self) -> Vec<String> {
        self.inner.policies.iter().map(|p| p.name.clone()).collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "Scenario(name={:?}, seed={}, policies={:?})",
            self.inner.name,
            self.inner.seed,
            self.policies()
        )
    }

    fn __eq__(&self, other: &Bound<'_, PyAny>) -> bool {
        other
            .cast::<PyScenario>()
            .is_ok_and(|o| o.get().inner == self.inner)
    }
}

/// What a simulation produced.
#[pyclass(frozen, name = "Report", module = "switchboard.sim")]
pub struct PyReport {
    pub inner: SimReport,
    /// Whether the runs kept their per-conversation records.
    kept: bool,
}

/// One population's headline as (population, metric, estimate) rows.
fn headline_rows(population: String, h: &Headline) -> Vec<(String, String, &Estimate)> {
    let mut rows = vec![
        ("offered", &h.offered),
        ("first_response_mean_s", &h.first_response_mean_s),
        ("first_response_p90_s", &h.first_response_p90_s),
        ("wait_mean_s", &h.wait_mean_s),
        ("abandonment_pct", &h.abandonment_pct),
        ("service_level_20s_pct", &h.service_level_20s_pct),
        ("response_rate_pct", &h.response_rate_pct),
        ("occupancy_pct", &h.occupancy_pct),
        ("p_wait_pct", &h.p_wait_pct),
        ("wait_all_mean_s", &h.wait_all_mean_s),
        ("wait_served_mean_s", &h.wait_served_mean_s),
        ("queue_length_mean", &h.queue_length_mean),
        ("queue_length_max", &h.queue_length_max),
    ]
    .into_iter()
    .filter(|(_, e)| e.n > 0)
    .map(|(m, e)| (population.clone(), m.to_string(), e))
    .collect::<Vec<_>>();
    for sl in &h.service_levels {
        if sl.pct.n > 0 {
            rows.push((
                population.clone(),
                format!("service_level_{}s_pct", sl.threshold_s),
                &sl.pct,
            ));
        }
    }
    rows
}

#[pymethods]
impl PyReport {
    #[getter]
    fn scenario(&self) -> &str {
        &self.inner.scenario
    }

    #[getter]
    fn seed(&self) -> u64 {
        self.inner.seed
    }

    /// Replications per policy that ran.
    #[getter]
    fn replications(&self) -> u32 {
        self.inner.replications
    }

    /// The compared policies' names, in scenario order.
    #[getter]
    fn policy_names(&self) -> Vec<String> {
        self.inner.policies.iter().map(|p| p.name.clone()).collect()
    }

    /// One summary per policy (everyone, per tier, per queue, per operator, per group), as
    /// dicts; every figure is `{"mean", "half_width", "n"}` over the replications.
    #[getter]
    fn policies<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        errors::to_python(py, &self.inner.policies)
    }

    /// How the run length was decided and why the replications stopped.
    #[getter]
    fn stop<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        errors::to_python(py, &self.inner.stop)
    }

    /// Every run (policy × replication) with its full KPI report and queueing measures, as
    /// dicts, policy-major; the per-conversation rows are left out (see `records`).
    fn runs<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let out = PyList::empty(py);
        for r in &self.inner.runs {
            let d = errors::to_python(py, r)?;
            if let Ok(d) = d.cast::<PyDict>() {
                d.del_item("records")?;
            }
            out.append(d)?;
        }
        Ok(out)
    }

    /// The headline figures in long form, as a dict of equal-length lists (columns
    /// `policy`, `population` — "all", "tier N" or "queue N"/"queue default" —, `metric`,
    /// `mean`, `half_width`, `n`): `pandas.DataFrame(report.summary())`.
    fn summary<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let (mut policy, mut population, mut metric) = (Vec::new(), Vec::new(), Vec::new());
        let (mut mean, mut half, mut n) = (Vec::new(), Vec::new(), Vec::new());
        for p in &self.inner.policies {
            let mut rows = headline_rows("all".into(), &p.overall);
            for t in &p.by_tier {
                let name = t.tier.map_or("all".into(), |t| format!("tier {}", t.0));
                rows.extend(headline_rows(name, t));
            }
            for q in &p.by_queue {
                let name = q
                    .queue
                    .map_or("queue default".into(), |q| format!("queue {}", q.0));
                rows.extend(headline_rows(name, &q.headline));
            }
            for (pop, m, e) in rows {
                policy.push(p.name.clone());
                population.push(pop);
                metric.push(m);
                mean.push(e.mean);
                half.push(e.half_width);
                n.push(e.n);
            }
        }
        let d = PyDict::new(py);
        d.set_item("policy", policy)?;
        d.set_item("population", population)?;
        d.set_item("metric", metric)?;
        d.set_item("mean", mean)?;
        d.set_item("half_width", half)?;
        d.set_item("n", n)?;
        Ok(d)
    }

    /// Every run's per-conversation records (`simulate(..., keep_records=True)`) as one
    /// table, `policy` and `replication` columns first, then the interchange columns (times
    /// in ms of the simulated clock): `pyarrow.table(t)`, `polars.DataFrame(t)`,
    /// `t.to_pandas()` or `t.to_numpy()`. `kpi.report(t)` recomputes the KPIs from them.
    fn records(&self) -> PyResult<RecordTable> {
        if !self.kept {
            return Err(errors::invalid(
                "keep_records",
                "the runs kept no records: simulate(..., keep_records=True)",
            ));
        }
        let mut batches = Vec::with_capacity(self.inner.runs.len());
        for r in &self.inner.runs {
            let n = r.records.len();
            let policy: ArrayRef = Arc::new(StringArray::from(vec![r.policy.as_str(); n]));
            let replication: ArrayRef = Arc::new(UInt32Array::from(vec![r.replication; n]));
            batches.push(records::batch_of(
                &r.records,
                vec![
                    ("policy".into(), policy),
                    ("replication".into(), replication),
                ],
            )?);
        }
        let schema = match batches.first() {
            Some(b) => b.schema(),
            None => records::batch_of(
                &[],
                vec![
                    (
                        "policy".into(),
                        Arc::new(StringArray::from(Vec::<&str>::new())) as ArrayRef,
                    ),
                    (
                        "replication".into(),
                        Arc::new(UInt32Array::from(Vec::<u32>::new())),
                    ),
                ],
            )?
            .schema(),
        };
        Ok(RecordTable::new(batches, schema))
    }

    /// The whole report as plain Python values (records included when kept).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        errors::to_python(py, &self.inner)
    }

    /// The whole report as JSON text, as `cargo run --example simulate -- --json` writes it.
    fn to_json(&self) -> PyResult<String> {
        serde_json::to_string(&self.inner).map_err(|e| errors::invalid("report", e))
    }

    fn __repr__(&self) -> String {
        format!(
            "Report(scenario={:?}, seed={}, replications={}, policies={:?})",
            self.inner.scenario,
            self.inner.seed,
            self.inner.replications,
            self.policy_names()
        )
    }
}

/// Runs every policy of the scenario `replications` times (common random numbers: replication
/// `i` of every policy uses stream `i` of the seed) with the GIL released. `progress(done,
/// total)` is called after each run; an exception it raises stops the simulation and is
/// re-raised, as is Ctrl-C (checked after each run).
#[pyfunction]
#[pyo3(signature = (scenario, replications = 5, seed = None, keep_records = false, stop = None, progress = None))]
fn simulate(
    py: Python<'_>,
    scenario: &Bound<'_, PyAny>,
    replications: u32,
    seed: Option<u64>,
    keep_records: bool,
    stop: Option<&Bound<'_, PyAny>>,
    progress: Option<Py<PyAny>>,
) -> PyResult<PyReport> {
    let mut sc = PyScenario::from_any(scenario)?.inner;
    if let Some(seed) = seed {
        sc.seed = seed;
    }
    if let Some(stop) = stop {
        sc.stop = Some(errors::from_python::<Stop>(stop, "stop")?);
        sc.validate().map_err(|e| errors::scenario(&e))?;
    }
    if replications == 0 {
        return Err(errors::invalid(
            "replications",
            "replications must be at least 1",
        ));
    }
    if let Some(p) = &progress {
        if !p.bind(py).is_callable() {
            return Err(errors::invalid(
                "progress",
                "progress must be callable as progress(done, total)",
            ));
        }
    }
    let mut raised: Option<PyErr> = None;
    let result = py.detach(|| {
        simulate_until(&sc, replications, keep_records, &mut |done, total| {
            Python::attach(|py| {
                let outcome = match &progress {
                    Some(p) => p.call1(py, (done, total)).map(drop),
                    None => Ok(()),
                }
                .and_then(|()| py.check_signals());
                match outcome {
                    Ok(()) => ControlFlow::Continue(()),
                    Err(e) => {
                        raised = Some(e);
                        ControlFlow::Break(())
                    }
                }
            })
        })
    });
    match result {
        Ok(inner) => Ok(PyReport {
            inner,
            kept: keep_records,
        }),
        Err(SimError::Stopped { .. }) => {
            Err(raised.unwrap_or_else(|| PyKeyboardInterrupt::new_err("simulation stopped")))
        }
        Err(e) => Err(errors::sim(&e)),
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyScenario>()?;
    m.add_class::<PyReport>()?;
    m.add_function(wrap_pyfunction!(simulate, m)?)?;
    Ok(())
}
