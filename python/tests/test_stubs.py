"""The type stubs match the native module: mypy's stubtest compares every
function's and class's signature in `_switchboard.pyi` with the built module."""

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
