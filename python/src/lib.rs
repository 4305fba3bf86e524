//! The native module `switchboard._switchboard`: thin bindings over the Rust crate, one file
//! per area. The Python package `switchboard` (beside this crate) re-exports it with
//! docstrings, type stubs and the exception classes.

use pyo3::prelude::*;

// Some mappings are used only by the areas still to land (sim, kpi, engine).
#[allow(dead_code)]
mod errors;
mod kpi;
mod records;
mod staffing;

#[pymodule]
fn _switchboard(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    staffing::register(m)?;
    records::register(m)?;
    kpi::register(m)?;
    Ok(())
}
