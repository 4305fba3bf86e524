"""The README's Python tour runs as written, against the installed wheel."""

import os
import re
from pathlib import Path

REPO = Path(os.environ.get("SWITCHBOARD_REPO", Path(__file__).resolve().parents[2]))


def test_the_readme_python_block_runs(monkeypatch, capsys):
    text = (REPO / "README.md").read_text()
    section = text.split("## Use from Python", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, re.S)
    assert len(blocks) == 1, "one Python block in the README's Python section"
    monkeypatch.chdir(REPO)  # it reads examples/data/sample.csv
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)
    out = capsys.readouterr().out
    assert "conversation #1" in out and "operator #1" in out
    assert namespace["report"].replications == 5
    assert len(namespace["df"]) == len(namespace["table"]) > 1000
    assert namespace["fitted"].to_dict()["arrivals"]
    assert namespace["engine"].state_hash() == namespace["Engine"].from_snapshot(namespace["snapshot"]).state_hash()
