"""Runs the Python blocks of docs/python.md verbatim, in order, in a scratch directory."""
import os
import re
import sys

import pytest

pytest.importorskip("torch")
SRC = os.environ["SWATSIM_SRC"]
SWATSIM = os.environ["SWATSIM"]
sys.path.insert(0, os.path.join(SRC, "python"))


def test_walkthrough_runs(tmp_path, monkeypatch):
    import matplotlib
    matplotlib.use("Agg")
    text = open(os.path.join(SRC, "docs", "python.md")).read()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 4
    monkeypatch.chdir(tmp_path)
    env = {"SWATSIM": SWATSIM, "SRC": SRC}
    for b in blocks:
        exec(compile(b, "docs/python.md", "exec"), env)
    assert os.path.getsize("energy.png") > 0 and os.path.exists("tiny.swt") and os.path.exists("mine-hbm2.json")
