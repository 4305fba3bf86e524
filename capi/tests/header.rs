//! The committed C header equals a fresh cbindgen run over `src/ffi/`.
//!
//! After changing the C API, regenerate it with
//! `SWITCHBOARD_BLESS=1 cargo test -p switchboard-capi --test header`.
//!
//! It lives in switchboard-capi so that cbindgen (slow to build) is a
//! dev-dependency of the C library only, never of the core crate.

use std::path::Path;

#[test]
fn committed_header_matches_a_fresh_cbindgen_run() {
    let capi = Path::new(env!("CARGO_MANIFEST_DIR"));
    let root = capi.parent().expect("capi/ sits in the workspace root");
    // Only the ffi module is parsed, so no other public item of the crate
    // (a `pub const` in `model`, say) can leak into the C namespace.
    let config =
        cbindgen::Config::from_file(root.join("cbindgen.toml")).expect("cbindgen.toml parses");
    let bindings = cbindgen::Builder::new()
        .with_config(config)
        .with_src(root.join("src/ffi/mod.rs"))
        .generate()
        .expect("cbindgen reads src/ffi/");
    let mut fresh = Vec::new();
    bindings.write(&mut fresh);
    let path = root.join("include/switchboard.h");
    if std::env::var_os("SWITCHBOARD_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &fresh).expect("write include/switchboard.h");
        return;
    }
    let committed = std::fs::read(&path).unwrap_or_default();
    if committed != fresh {
        let first_diff = committed
            .split(|&b| b == b'\n')
            .zip(fresh.split(|&b| b == b'\n'))
            .position(|(a, b)| a != b)
            .map_or_else(
                || "a length difference".to_string(),
                |l| format!("line {}", l + 1),
            );
        panic!(
            "include/switchboard.h is out of date with src/ffi/ (first difference at {first_diff}); \
             run `SWITCHBOARD_BLESS=1 cargo test -p switchboard-capi --test header` and commit the result"
        );
    }
}
