//! The switchboard C library: `libswitchboard.a` and `libswitchboard.so`,
//! declared by `include/switchboard.h`.
//!
//! The C ABI itself lives in the core crate (`src/ffi/`, feature `ffi`),
//! where it can use the engine's crate-private items. This crate only turns
//! it into a C library: the re-export below makes the core's `ffi` module a
//! dependency of this staticlib/cdylib, and rustc exports every
//! `#[no_mangle] extern "C"` function of the crates it links, so each
//! `switchboard_*` function of the header is a global symbol of both
//! libraries (checked by `tests/c_api.rs` with `nm`).
//!
//! Install with `capi/install.sh --prefix DIR`; see the README's
//! "Use from C / C++".

pub use switchboard_core::ffi::*;
