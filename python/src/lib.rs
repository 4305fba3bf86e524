//! The native module `switchboard._switchboard`: thin bindings over the Rust crate, one file
//! per area. The Python package `switchboard` (beside this crate) re-exports it with
//! docstrings, type stubs and the exception classes.

use pyo3::prelude::*;

mod engine;
mod errors;
mod fit;
mod forecast;
mod kpi;
mod records;
mod sim;
mod staffing;

#[pymodule]
fn _switchboard(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    fit::register(m)?;
    forecast::register(m)?;
    sim::register(m)?;
    staffing::register(m)?;
    engine::register(m)?;
    records::register(m)?;
    kpi::register(m)?;
    Ok(())
}
