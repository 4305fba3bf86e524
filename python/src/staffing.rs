//! Erlang B, C and A over numpy arrays. The Python wrapper (`switchboard/staffing.py`)
//! broadcasts the arguments to one length; each function here checks the lengths again,
//! computes element by element with the GIL released, and names the element that was wrong
//! (`load[3]`).

use numpy::{IntoPyArray, PyArray1, PyReadonlyArray1};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use switchboard::staffing::{
    ErlangA, ErlangC, PatienceTarget, ServiceTarget, StaffingError, Workload, erlang_b, erlang_c,
    operators_needed, operators_needed_with_patience,
};

use crate::errors;

/// The arguments as owned columns of one length (so the GIL can be released while they are
/// read), or an error naming the first argument whose length differs.
fn columns<const N: usize>(
    names: [&str; N],
    arrays: [&PyReadonlyArray1<'_, f64>; N],
) -> PyResult<[Vec<f64>; N]> {
    let len = arrays[0].len()?;
    for (name, a) in names.iter().zip(arrays.iter()) {
        if a.len()? != len {
            return Err(errors::invalid(
                name,
                format!(
                    "{name} has {} values but {} has {len}; arrays must have one length (or broadcast)",
                    a.len()?,
                    names[0]
                ),
            ));
        }
    }
    let mut out: [Vec<f64>; N] = std::array::from_fn(|_| Vec::new());
    for (o, a) in out.iter_mut().zip(arrays.iter()) {
        *o = a.as_array().iter().copied().collect();
    }
    Ok(out)
}

/// A team size from a float column: a whole number from 0 up (0 is refused by the Rust call
/// with its own error).
fn team(value: f64, i: usize, indexed: bool) -> Result<u32, (String, String)> {
    if value.is_finite() && value >= 0.0 && value.fract() == 0.0 && value <= f64::from(u32::MAX) {
        Ok(value as u32)
    } else {
        Err((
            at("operators", i, indexed),
            format!("operators must be a whole number ≥ 1, got {value}"),
        ))
    }
}

fn at(name: &str, i: usize, indexed: bool) -> String {
    if indexed {
        format!("{name}[{i}]")
    } else {
        name.to_string()
    }
}

/// The staffing error of element `i`, naming its parameter.
fn element_error(e: &StaffingError, i: usize, indexed: bool) -> (String, String) {
    let name = match e {
        StaffingError::InvalidParameter { field, .. } => *field,
        StaffingError::ZeroOperators | StaffingError::TooManyOperators { .. } => "operators",
        StaffingError::Overloaded { .. } => "load",
        _ => "arguments",
    };
    let field = at(name, i, indexed);
    (field.clone(), format!("{field}: {e}"))
}

fn raise((field, message): (String, String)) -> PyErr {
    errors::invalid(&field, message)
}

/// Runs `f` over every index with the GIL released; the first error stops it.
fn each<T: Send, F>(py: Python<'_>, len: usize, f: F) -> PyResult<Vec<T>>
where
    F: Fn(usize) -> Result<T, (String, String)> + Send + Sync,
{
    py.detach(|| (0..len).map(&f).collect::<Result<Vec<T>, _>>())
        .map_err(raise)
}

/// `formula(operators, load)` per element.
fn per_team<'py>(
    py: Python<'py>,
    operators: &PyReadonlyArray1<'py, f64>,
    load: &PyReadonlyArray1<'py, f64>,
    indexed: bool,
    formula: fn(u32, f64) -> Result<f64, StaffingError>,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let [n, a] = columns(["operators", "load"], [operators, load])?;
    let out = each(py, n.len(), |i| {
        formula(team(n[i], i, indexed)?, a[i]).map_err(|e| element_error(&e, i, indexed))
    })?;
    Ok(out.into_pyarray(py))
}

/// Erlang B blocking probability per element.
#[pyfunction]
#[pyo3(signature = (operators, load, indexed))]
fn erlang_b_array<'py>(
    py: Python<'py>,
    operators: PyReadonlyArray1<'py, f64>,
    load: PyReadonlyArray1<'py, f64>,
    indexed: bool,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    per_team(py, &operators, &load, indexed, erlang_b)
}

/// Erlang C probability of waiting per element.
#[pyfunction]
#[pyo3(signature = (operators, load, indexed))]
fn erlang_c_array<'py>(
    py: Python<'py>,
    operators: PyReadonlyArray1<'py, f64>,
    load: PyReadonlyArray1<'py, f64>,
    indexed: bool,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    per_team(py, &operators, &load, indexed, erlang_c)
}

/// The measures of an Erlang C team per element, as a dict of arrays.
#[pyfunction]
#[pyo3(signature = (operators, arrival_rate, mean_handle_time, threshold, indexed))]
fn erlang_c_measures<'py>(
    py: Python<'py>,
    operators: PyReadonlyArray1<'py, f64>,
    arrival_rate: PyReadonlyArray1<'py, f64>,
    mean_handle_time: PyReadonlyArray1<'py, f64>,
    threshold: PyReadonlyArray1<'py, f64>,
    indexed: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let [n, rate, aht, t] = columns(
        ["operators", "arrival_rate", "mean_handle_time", "threshold"],
        [&operators, &arrival_rate, &mean_handle_time, &threshold],
    )?;
    let rows = each(py, n.len(), |i| {
        let err = |e: StaffingError| element_error(&e, i, indexed);
        let w = Workload::new(rate[i], aht[i]).map_err(err)?;
        let q = ErlangC::new(w, team(n[i], i, indexed)?).map_err(err)?;
        Ok([
            q.probability_of_waiting(),
            q.average_speed_of_answer(),
            q.mean_queue_length(),
            q.occupancy(),
            q.service_level(t[i]).map_err(err)?,
        ])
    })?;
    table(
        py,
        &[
            "probability_of_waiting",
            "average_speed_of_answer",
            "mean_queue_length",
            "occupancy",
            "service_level",
        ],
        &rows,
    )
}

/// The measures of an Erlang A team (customers who abandon after an exponential patience)
/// per element, as a dict of arrays.
#[pyfunction]
#[pyo3(signature = (operators, arrival_rate, mean_handle_time, mean_patience, threshold, indexed))]
fn erlang_a_measures<'py>(
    py: Python<'py>,
    operators: PyReadonlyArray1<'py, f64>,
    arrival_rate: PyReadonlyArray1<'py, f64>,
    mean_handle_time: PyReadonlyArray1<'py, f64>,
    mean_patience: PyReadonlyArray1<'py, f64>,
    threshold: PyReadonlyArray1<'py, f64>,
    indexed: bool,
) -> PyResult<Bound<'py, PyDict>> {
    let [n, rate, aht, patience, t] = columns(
        [
            "operators",
            "arrival_rate",
            "mean_handle_time",
            "mean_patience",
            "threshold",
        ],
        [
            &operators,
            &arrival_rate,
            &mean_handle_time,
            &mean_patience,
            &threshold,
        ],
    )?;
    let rows = each(py, n.len(), |i| {
        let err = |e: StaffingError| element_error(&e, i, indexed);
        let w = Workload::new(rate[i], aht[i]).map_err(err)?;
        let q = ErlangA::new(w, team(n[i], i, indexed)?, patience[i]).map_err(err)?;
        Ok([
            q.probability_of_waiting(),
            q.probability_of_abandonment(),
            q.mean_wait(),
            q.mean_queue_length(),
            q.occupancy(),
            q.service_level(t[i]).map_err(err)?,
        ])
    })?;
    table(
        py,
        &[
            "probability_of_waiting",
            "probability_of_abandonment",
            "mean_wait",
            "mean_queue_length",
            "occupancy",
            "service_level",
        ],
        &rows,
    )
}

/// The smallest team per element that answers `service_level` of the contacts within
/// `threshold` (Erlang C; Erlang A where `mean_patience` is finite), optionally with an
/// occupancy cap and, with patience, an abandonment cap. NaN in a cap means "no cap".
#[pyfunction]
#[pyo3(signature = (arrival_rate, mean_handle_time, threshold, service_level, max_occupancy, mean_patience, max_abandonment, indexed))]
#[allow(clippy::too_many_arguments)]
fn operators_needed_array<'py>(
    py: Python<'py>,
    arrival_rate: PyReadonlyArray1<'py, f64>,
    mean_handle_time: PyReadonlyArray1<'py, f64>,
    threshold: PyReadonlyArray1<'py, f64>,
    service_level: PyReadonlyArray1<'py, f64>,
    max_occupancy: PyReadonlyArray1<'py, f64>,
    mean_patience: PyReadonlyArray1<'py, f64>,
    max_abandonment: PyReadonlyArray1<'py, f64>,
    indexed: bool,
) -> PyResult<Bound<'py, PyArray1<i64>>> {
    let [rate, aht, t, sl, occ, patience, aband] = columns(
        [
            "arrival_rate",
            "mean_handle_time",
            "threshold",
            "service_level",
            "max_occupancy",
            "mean_patience",
            "max_abandonment",
        ],
        [
            &arrival_rate,
            &mean_handle_time,
            &threshold,
            &service_level,
            &max_occupancy,
            &mean_patience,
            &max_abandonment,
        ],
    )?;
    let out = each(py, rate.len(), |i| {
        let err = |e: StaffingError| element_error(&e, i, indexed);
        let w = Workload::new(rate[i], aht[i]).map_err(err)?;
        let n = if patience[i].is_nan() {
            if !aband[i].is_nan() {
                return Err((
                    at("max_abandonment", i, indexed),
                    "max_abandonment needs mean_patience (customers who never leave never abandon)"
                        .to_string(),
                ));
            }
            let mut target = ServiceTarget::new(t[i], sl[i]).map_err(err)?;
            if !occ[i].is_nan() {
                target = target.with_max_occupancy(occ[i]).map_err(err)?;
            }
            operators_needed(w, target).map_err(err)?.operators()
        } else {
            let mut target = PatienceTarget::answered_within(t[i], sl[i]).map_err(err)?;
            if !aband[i].is_nan() {
                target = target.with_max_abandonment(aband[i]).map_err(err)?;
            }
            if !occ[i].is_nan() {
                target = target.with_max_occupancy(occ[i]).map_err(err)?;
            }
            operators_needed_with_patience(w, patience[i], target)
                .map_err(err)?
                .operators()
        };
        Ok(i64::from(n))
    })?;
    Ok(out.into_pyarray(py))
}

/// Rows of `N` measures as a dict of `N` arrays.
fn table<'py, const N: usize>(
    py: Python<'py>,
    names: &[&str; N],
    rows: &[[f64; N]],
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, name) in names.iter().enumerate() {
        let col: Vec<f64> = rows.iter().map(|r| r[k]).collect();
        d.set_item(name, col.into_pyarray(py))?;
    }
    Ok(d)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(erlang_b_array, m)?)?;
    m.add_function(wrap_pyfunction!(erlang_c_array, m)?)?;
    m.add_function(wrap_pyfunction!(erlang_c_measures, m)?)?;
    m.add_function(wrap_pyfunction!(erlang_a_measures, m)?)?;
    m.add_function(wrap_pyfunction!(operators_needed_array, m)?)?;
    Ok(())
}
