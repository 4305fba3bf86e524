"""The example script runs from a fresh process and draws its chart."""

import os
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "compare.py"


def test_compare_example_prints_the_table_and_writes_the_chart(tmp_path):
    out = tmp_path / "chart.png"
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--replications", "2", "--seed", "5", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    for policy in ("manual, oldest first", "manual, cherry-picking", "auto, least loaded"):
        assert policy in done.stdout
    assert "Enterprise" in done.stdout
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert os.path.getsize(out) > 20_000
