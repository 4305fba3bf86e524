//! A Rust program that depends on `switchboard` gets the rlib and nothing
//! else: no `libswitchboard.a`, no `libswitchboard.so`, no C ABI. A scratch
//! project is created in `$CARGO_TARGET_TMPDIR/capi/scratch-rust/`, depends
//! on the core crate by path and is built (`--offline`, with this
//! workspace's Cargo.lock) into the same target directory as this test, so
//! it is quick.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("capi/ sits in the workspace root")
}

/// This test's target directory (`CARGO_TARGET_TMPDIR` is its `tmp/`).
fn target_dir() -> &'static Path {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is <target>/tmp")
}

/// Every `libswitchboard*.a` / `*.so` in the places a build of the scratch
/// project writes, with its modification time.
fn c_libraries() -> Vec<(PathBuf, SystemTime)> {
    let mut found = Vec::new();
    for dir in ["debug", "debug/deps"] {
        let Ok(entries) = fs::read_dir(target_dir().join(dir)) else {
            continue;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let c_lib = name.ends_with(".a") || name.ends_with(".so") || name.contains(".so.");
            if name.starts_with("libswitchboard") && c_lib {
                let modified = e.metadata().and_then(|m| m.modified()).unwrap();
                found.push((e.path(), modified));
            }
        }
    }
    found.sort();
    found
}

#[test]
fn a_rust_dependent_builds_the_rlib_only() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("capi/scratch-rust");
    fs::create_dir_all(dir.join("src")).unwrap();
    // Its own workspace (`[workspace]`): target/tmp is inside this one.
    fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"scratch-rust-dependent\"\nversion = \"0.0.0\"\n\
             edition = \"2024\"\npublish = false\n\n[dependencies]\n\
             switchboard = {{ path = {:?} }}\n\n[workspace]\n",
            root().display().to_string()
        ),
    )
    .unwrap();
    fs::write(
        dir.join("src/main.rs"),
        "use switchboard::prelude::*;\n\nfn main() {\n    \
         let policy = Policy::new(Vec::new(), Vec::new(), Vec::new());\n    \
         println!(\"{:?}\", Engine::new(policy).is_ok());\n}\n",
    )
    .unwrap();
    // The same versions as this workspace, so --offline finds them.
    fs::copy(root().join("Cargo.lock"), dir.join("Cargo.lock")).unwrap();

    let before = c_libraries();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(&dir)
        .env("CARGO_TARGET_DIR", target_dir())
        .args(["build", "--offline", "--message-format=json"])
        .output()
        .expect("run cargo build in the scratch project");
    let json = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the scratch Rust project failed to build:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // What cargo says it built (fresh units included): switchboard as an
    // rlib without the `ffi` feature, and no C library anywhere.
    let artifacts: Vec<&str> = json
        .lines()
        .filter(|l| l.contains(r#""reason":"compiler-artifact""#))
        .collect();
    let core = artifacts
        .iter()
        .find(|l| l.contains(r#""name":"switchboard""#))
        .expect("switchboard was built");
    assert!(
        core.contains(r#""crate_types":["rlib"]"#),
        "switchboard built as an rlib only:\n{core}"
    );
    assert!(
        core.contains(r#""features":["default","serde"]"#),
        "the default features leave the C ABI (`ffi`) out:\n{core}"
    );
    for a in &artifacts {
        let files = a.split(r#""filenames":["#).nth(1).unwrap_or("");
        let files = files.split(']').next().unwrap_or("");
        for f in files.split(',') {
            let f = f.trim_matches('"');
            let name = f.rsplit('/').next().unwrap_or(f);
            assert!(
                !(name.starts_with("libswitchboard")
                    && (name.ends_with(".a") || name.ends_with(".so"))),
                "a Rust dependent's build made {f}"
            );
        }
    }
    // And on disk: no C library appeared or was rewritten.
    assert_eq!(
        c_libraries(),
        before,
        "libswitchboard .a/.so in the target dir"
    );
}
