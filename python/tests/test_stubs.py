"""The type stubs match the native module: mypy's stubtest compares every
function's and class's signature in `_switchboard.pyi` with the built module,
and mypy checks the Python modules against the stubs."""

import subprocess
import sys


def test_stubs_match_the_native_module():
    done = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "switchboard._switchboard", "--ignore-disjoint-bases"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success" in done.stdout, done.stdout


def test_the_python_modules_type_check_against_the_stubs():
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "-p", "switchboard"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
