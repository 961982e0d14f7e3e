"""Reports and sweeps as pandas DataFrames with typed columns.

    from swatsim import results
    rows = results.load_run("report.json")          # or a `swatsim run --csv` file
    sweep = results.load_sweep("sweeps/lookahead")  # one row per point, trace, iteration, layer, pass
    totals = results.load_totals("sweeps/lookahead")  # one row per point and trace

Column types: `point`, `iteration`, `layer`, `samples` and every count statistic (cycles, MACs,
bytes, work units) are int64; ratios, seconds, energies (pJ) and bandwidths (`speedup`, `time`,
`energy.total_pj`, `dram.bandwidth_gb_per_s`) and averaged cycles (`pe.row_imbalance_cycles`) are
float64; a statistic only some rows have (a sweep over ideal memory and DRAM) is nullable (Int64,
Float64) with <NA> where it was not measured; `pass`, `trace` and `name` are categoricals / strings; axis
columns (named by their JSON pointer, e.g. `/pe/lookahead`) take the type of their values.
"""
import json
import os

import pandas as pd

_INT_COLUMNS = ("point", "iteration", "layer", "samples")
# Cycles averaged over PE rows or divided over tiles: not whole although counted in cycles; the
# mapper's objective (cycles, bytes, pJ or pJ x cycles by its objective).
_FLOAT_STATS = ("pe.row_imbalance_cycles", "roofline.compute_cycles", "baseline_cycles_without_inserted_zeros",
                "tiling.estimated_objective")
_WHOLE_UNITS = ("cycles", "MACs", "count", "bytes")  # the others (ratio, s, pJ, bytes/cycle, GB/s) are reals


def _stat_types(units):
    """{stat name: dtype} from a report's "stats" table (unit per statistic)."""
    types = {}
    for name, info in units.items():
        # baseline.* and reference.* are the other designs' own statistics under the same rules.
        own = name.split(".", 1)[1] if name.startswith(("baseline.", "reference.")) else name
        whole = info.get("unit") in _WHOLE_UNITS and name not in _FLOAT_STATS and own not in _FLOAT_STATS
        types[name] = "int64" if whole else "float64"
    return types


def _typed(df, stat_types):
    for c in df.columns:
        kind = "int64" if c in _INT_COLUMNS else stat_types.get(c)
        if kind in ("int64", "float64"):
            # A statistic some rows lack (a sweep mixing ideal memory and DRAM) is empty there:
            # a nullable column then, with <NA> where it was not measured.
            values = pd.to_numeric(df[c], errors="coerce")
            missing = values.isna().any()
            df[c] = values.astype(("Int64" if kind == "int64" else "Float64") if missing else kind)
    for c in ("pass", "trace"):
        if c in df.columns:
            df[c] = df[c].astype("category")
    if "name" in df.columns:
        df["name"] = df["name"].astype("string")
    return df


def _default_stat_types(columns):
    """Without a report's unit table (a CSV alone): the statistics `swatsim run` writes."""
    floats = {"speedup", "utilization", "time", "energy_efficiency", "edp_gain", "dram.bandwidth_bytes_per_cycle",
              "dram.bandwidth_gb_per_s", "speedup_without_inserted_zeros"} | set(_FLOAT_STATS)
    fixed = set(_INT_COLUMNS) | {"pass", "name", "trace"}
    return {c: ("float64" if c in floats or c.endswith("_pj") else "int64")
            for c in columns if c not in fixed and not c.startswith("/")}


def load_run(path):
    """One `swatsim run` report: the JSON (`--out`) or the CSV (`--csv`); one row per iteration,
    layer and pass."""
    if path.endswith(".csv"):
        df = pd.read_csv(path, keep_default_na=False, na_values=[])
        return _typed(df, _default_stat_types(df.columns))
    with open(path) as f:
        report = json.load(f)
    df = pd.DataFrame(report["rows"])
    return _typed(df, _stat_types(report["stats"]))


def _sweep_stat_types(directory):
    """Units of every statistic any task reported (points may differ: ideal memory has no DRAM stats)."""
    tasks = os.path.join(directory, "tasks")
    types = {}
    for name in sorted(os.listdir(tasks)) if os.path.isdir(tasks) else []:
        if name.endswith(".json"):
            with open(os.path.join(tasks, name)) as f:
                types.update(_stat_types(json.load(f)["stats"]))
    return types or None


def _axes(directory):
    with open(os.path.join(directory, "sweep.json")) as f:
        return json.load(f)["axes"]


def _axis_types(df, axes):
    for a in axes:
        if a in df.columns:
            converted = pd.to_numeric(df[a], errors="coerce")
            df[a] = converted if converted.notna().all() else df[a].astype("string")
    return df


def load_sweep(directory):
    """A sweep directory's results.csv: one row per point, trace, iteration, layer and pass, every
    axis a column named by its pointer."""
    df = pd.read_csv(os.path.join(directory, "results.csv"), keep_default_na=False, na_values=[], dtype=str)
    types = _sweep_stat_types(directory) or _default_stat_types(df.columns)
    return _axis_types(_typed(df, types), _axes(directory))


def load_totals(directory):
    """A sweep directory's totals.csv: one row per point and trace (all passes)."""
    df = pd.read_csv(os.path.join(directory, "totals.csv"), keep_default_na=False, na_values=[], dtype=str)
    types = _sweep_stat_types(directory) or _default_stat_types(df.columns)
    return _axis_types(_typed(df, types), _axes(directory))
