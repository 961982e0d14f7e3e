"""swatsim.results against a real sweep directory and run report, and plot_sweep.py end to end.
Run by ctest with Debian's /usr/bin/python3 -m pytest; SWATSIM and SWATSIM_SRC name the binary and
the source tree."""
import csv
import json
import os
import subprocess
import sys

import pytest

SRC = os.environ["SWATSIM_SRC"]
SWATSIM = os.environ["SWATSIM"]
sys.path.insert(0, os.path.join(SRC, "python"))
from swatsim import results  # noqa: E402

SWEEP = {
    "name": "pandas",
    "base": {"name": "td", "pe": {"type": "tensordash"}},
    "axes": [{"/pe/lookahead": [1, 3]}, {"/pe/shape": ["T", "L"]}],
    "traces": [os.path.join(SRC, "traces/samples/sample.swt")],
    "run": {"passes": "forward,input-grad"},
}


@pytest.fixture(scope="module")
def sweep_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("sweep")
    (d / "sweep.json").write_text(json.dumps(SWEEP))
    subprocess.run([SWATSIM, "sweep", "run", str(d / "sweep.json"), "--out", str(d / "out"), "--jobs", "2", "-q"],
                   check=True)
    return str(d / "out")


def test_sweep_rows_match_the_csv(sweep_dir):
    df = results.load_sweep(sweep_dir)
    with open(os.path.join(sweep_dir, "results.csv")) as f:
        rows = list(csv.DictReader(f))
    assert len(df) == len(rows) == 4 * 2 * 4 * 2 - 2 * 4  # points x iterations x layers x passes, no input-grad of layer 0
    assert str(df["point"].dtype) == "int64" and str(df["cycles"].dtype) == "int64"
    assert str(df["speedup"].dtype) == "float64" and str(df["/pe/lookahead"].dtype) == "int64"
    assert str(df["/pe/shape"].dtype) == "string" and str(df["pass"].dtype) == "category"
    for i in (0, 7, len(rows) - 1):
        assert df["cycles"].iloc[i] == int(rows[i]["cycles"])
        assert df["speedup"].iloc[i] == float(rows[i]["speedup"])
        assert df["/pe/shape"].iloc[i] == rows[i]["/pe/shape"]
    assert sorted(df["/pe/lookahead"].unique()) == [1, 3]


def test_totals_are_the_sums_of_the_rows(sweep_dir):
    rows = results.load_sweep(sweep_dir)
    totals = results.load_totals(sweep_dir)
    assert len(totals) == 4
    for _, t in totals.iterrows():
        sub = rows[rows["point"] == t["point"]]
        assert t["cycles"] == sub["cycles"].sum()
        assert t["baseline_cycles"] == sub["baseline_cycles"].sum()
        assert t["speedup"] == pytest.approx(t["baseline_cycles"] / t["cycles"])


def test_run_report_json_and_csv_agree(tmp_path):
    out, csv_path = tmp_path / "r.json", tmp_path / "r.csv"
    subprocess.run([SWATSIM, "run", "--arch", os.path.join(SRC, "configs/arch/tensordash-td.json"), "--trace",
                    SWEEP["traces"][0], "--out", str(out), "--csv", str(csv_path), "-q"], check=True)
    a, b = results.load_run(str(out)), results.load_run(str(csv_path))
    assert len(a) == len(b) == 2 * (4 * 3 - 1)
    assert list(a["cycles"]) == list(b["cycles"])
    assert str(b["macs.dense"].dtype) == "int64" and str(b["utilization"].dtype) == "float64"


def test_plot_sweep_writes_png_and_svg(sweep_dir, tmp_path):
    r = subprocess.run([sys.executable, os.path.join(SRC, "scripts/plot_sweep.py"), sweep_dir, "--out", str(tmp_path)],
                       check=True, capture_output=True, text=True)
    assert "Pareto front" in r.stdout
    for name in ("speedup", "layers", "pareto"):
        assert (tmp_path / f"{name}.png").stat().st_size > 1000
        assert (tmp_path / f"{name}.svg").read_text().startswith("<?xml")
    first = (tmp_path / "pareto.svg").read_bytes()
    subprocess.run([sys.executable, os.path.join(SRC, "scripts/plot_sweep.py"), sweep_dir, "--out", str(tmp_path)],
                   check=True, capture_output=True)
    assert (tmp_path / "pareto.svg").read_bytes() == first  # deterministic


def test_memory_sweep_types(tmp_path):
    """A sweep over ideal memory and DRAM: energy and bandwidth are reals, DRAM bytes a nullable
    integer that is <NA> where the memory was ideal (no DRAM)."""
    sweep = {
        "name": "memory",
        "base": os.path.join(SRC, "configs/arch/tensordash-micro2020-ddr4.json"),
        "axes": [{"/memory": [{"type": "ideal"}, {"type": "hierarchy"}], "/dram": [None, "hbm2"]}],
        "traces": [os.path.join(SRC, "traces/samples/sample.swt")],
        "run": {"passes": "forward"},
    }
    (tmp_path / "sweep.json").write_text(json.dumps(sweep))
    out = str(tmp_path / "out")
    subprocess.run([SWATSIM, "sweep", "run", str(tmp_path / "sweep.json"), "--out", out, "-q"], check=True)
    t = results.load_totals(out)
    assert str(t["cycles"].dtype) == "int64"
    assert str(t["energy.total_pj"].dtype) == "float64" and (t["energy.total_pj"] > 0).all()
    assert str(t["dram.read_bytes"].dtype) == "Int64"
    assert t["dram.read_bytes"].isna().tolist() == [True, False]
    assert str(t["dram.bandwidth_gb_per_s"].dtype) == "Float64"
