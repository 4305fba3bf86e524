//! Builds the wheel with maturin, installs it into a scratch virtual environment and runs
//! the pytest suite (`tests/test_*.py`) against the installed package, as a user gets it.
//! `cargo test -p switchboard-python` runs it; the first run creates the environment
//! (`target/tmp/python/venv`) and installs maturin, pytest, numpy, pyarrow, pandas, polars,
//! matplotlib and mypy (for stubtest) from PyPI; later runs reuse it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn target_dir(manifest: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| {
            if p.is_absolute() {
                p
            } else {
                manifest.join("..").join(p)
            }
        })
        .unwrap_or_else(|| manifest.join("..").join("target"))
}

fn run(cmd: &mut Command, what: &str) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: could not start {cmd:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{text}",
        out.status
    );
    text
}

#[test]
fn pytest_against_the_installed_wheel() {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let tmp = target_dir(&manifest).join("tmp").join("python");
    let venv = tmp.join("venv");
    let python = venv.join("bin").join("python");
    if !python.exists() {
        std::fs::create_dir_all(&tmp).unwrap();
        run(
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
            "creating the virtual environment",
        );
    }
    let tools = [
        "maturin>=1.9,<2",
        "pytest>=7",
        "numpy>=1.22",
        "pyarrow>=14",
        "pandas>=2.2",
        "polars>=1.0",
        "matplotlib>=3.5",
        "mypy>=1.10",
    ];
    let ready = Command::new(&python)
        .args([
            "-c",
            "import maturin, pytest, numpy, pyarrow, pandas, polars, matplotlib, mypy",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ready {
        run(
            Command::new(&python)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                ])
                .args(tools),
            "installing the test tools",
        );
    }

    let wheels = tmp.join("wheels");
    let _ = std::fs::remove_dir_all(&wheels);
    let started = Instant::now();
    run(
        Command::new(venv.join("bin").join("maturin"))
            .args(["build", "--release", "--quiet", "--out"])
            .arg(&wheels)
            .arg("--manifest-path")
            .arg(manifest.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", target_dir(&manifest)),
        "maturin build",
    );
    let built = started.elapsed();
    let wheel = std::fs::read_dir(&wheels)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|x| x == "whl"))
        .expect("maturin wrote no wheel");
    let size = std::fs::metadata(&wheel).unwrap().len();
    println!(
        "wheel {} ({:.1} MiB) built in {:.1} s",
        wheel.file_name().unwrap().to_string_lossy(),
        size as f64 / (1024.0 * 1024.0),
        built.as_secs_f64()
    );
    let name = wheel.file_name().unwrap().to_string_lossy().into_owned();
    assert!(name.contains("abi3"), "the wheel is not abi3: {name}");
    run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--force-reinstall",
                "--no-deps",
            ])
            .arg(&wheel),
        "installing the wheel",
    );

    // From a directory outside the source tree, so `import switchboard` finds the installed
    // package, not `python/switchboard/` (which has no native module). The test files first,
    // then the docstring examples of the installed modules.
    let pytest = |args: &[&str], what: &str| {
        let out = run(
            Command::new(&python)
                .args([
                    "-m",
                    "pytest",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    "--import-mode=importlib",
                ])
                .args(args)
                .current_dir(&tmp)
                .env("SWITCHBOARD_REPO", manifest.join("..")),
            what,
        );
        println!("{out}");
        assert!(out.contains(" passed"), "{what} ran no test:\n{out}");
    };
    pytest(&[manifest.join("tests").to_str().unwrap()], "pytest");
    pytest(
        &["--doctest-modules", "--pyargs", "switchboard"],
        "the docstring examples",
    );
}
