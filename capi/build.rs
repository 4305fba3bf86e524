//! Gives the shared library its SONAME on Linux: `libswitchboard.so.0`, the
//! name `capi/install.sh` installs the symlink under and the name a program
//! linked with `-lswitchboard` records in its `DT_NEEDED`. Without it the
//! loader would look for the unversioned `libswitchboard.so` (the
//! development symlink) at run time.
//!
//! Other platforms are left to rustc's defaults: macOS would want
//! `-install_name @rpath/libswitchboard.0.dylib`, Windows has no SONAME. Not
//! done here because nothing builds or tests the C library there yet.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "linux" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libswitchboard.so.0");
    }
}
