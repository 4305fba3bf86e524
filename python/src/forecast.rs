//! A forecast from the live state: the next hour (or any horizon) simulated from an engine's
//! snapshot, with the GIL released.

use pyo3::prelude::*;
use pyo3::types::PyBytes;
use switchboard::engine::Snapshot;
use switchboard::sim::{ArrivalForecast, ForecastError, ForecastOptions, forecast as run};
use switchboard::time::Millis;

use crate::errors;
use crate::sim::PyScenario;

fn forecast_error(e: &ForecastError) -> PyErr {
    match e {
        ForecastError::Scenario(s) => errors::scenario(s),
        ForecastError::Snapshot(s) => errors::snapshot(s),
        // The Rust option names, as this function's arguments spell them.
        _ => {
            let field = e.field().map(|f| match f {
                "horizon" => "horizon_minutes",
                "interval" => "rate_interval_minutes",
                other => other,
            });
            errors::error(errors::Kind::Invalid, field, e)
        }
    }
}

/// Minutes as whole milliseconds: finite and > 0.
fn minutes(field: &str, value: f64) -> PyResult<Millis> {
    if value.is_finite() && value > 0.0 && value * 60_000.0 < u64::MAX as f64 {
        Ok(Millis((value * 60_000.0).round() as u64))
    } else {
        Err(errors::invalid(
            field,
            format!("{field} must be a finite number of minutes > 0, got {value}"),
        ))
    }
}

/// Simulates the next `horizon_minutes` from the engine's live state (`engine` is an
/// `Engine` or the bytes of its `snapshot()`): the waiting conversations keep their wait so
/// far, the held ones finish, arrivals follow the scenario's profile or `rates` (per hour,
/// one per `rate_interval_minutes`). Returns the forecast (everyone and per tier: service
/// levels, abandonment, mean wait, P(wait), waiting at the end, each with a 95 % interval) as
/// a dict.
#[pyfunction]
#[pyo3(signature = (engine, scenario, horizon_minutes = 60.0, replications = 20, rates = None, rate_interval_minutes = 15.0, policy = None, clock_hour = None, seed = None))]
#[allow(clippy::too_many_arguments)]
pub fn forecast<'py>(
    py: Python<'py>,
    engine: &Bound<'py, PyAny>,
    scenario: &Bound<'py, PyAny>,
    horizon_minutes: f64,
    replications: u32,
    rates: Option<Vec<f64>>,
    rate_interval_minutes: f64,
    policy: Option<String>,
    clock_hour: Option<f64>,
    seed: Option<u64>,
) -> PyResult<Bound<'py, PyAny>> {
    let bytes: Vec<u8> = if let Ok(b) = engine.cast::<PyBytes>() {
        b.as_bytes().to_vec()
    } else if engine.hasattr("snapshot")? {
        let b = engine.call_method0("snapshot")?;
        b.cast::<PyBytes>()
            .map_err(|_| errors::invalid("engine", "engine.snapshot() did not return bytes"))?
            .as_bytes()
            .to_vec()
    } else {
        return Err(errors::invalid(
            "engine",
            "engine must be an Engine or the bytes of its snapshot()",
        ));
    };
    let snapshot = Snapshot::from_bytes(&bytes).map_err(|e| errors::snapshot(&e))?;
    let sc = PyScenario::from_any(scenario)?.inner;
    let arrivals = match rates {
        None => ArrivalForecast::Profile,
        Some(rates) => ArrivalForecast::Rates {
            interval: minutes("rate_interval_minutes", rate_interval_minutes)?,
            rates,
        },
    };
    let opts = ForecastOptions {
        horizon: minutes("horizon_minutes", horizon_minutes)?,
        replications,
        arrivals,
        policy,
        clock_hour,
        seed,
    };
    let report = py
        .detach(|| run(&snapshot, &sc, &opts))
        .map_err(|e| forecast_error(&e))?;
    errors::to_python(py, &report)
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(forecast, m)?)?;
    Ok(())
}
