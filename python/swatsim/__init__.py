"""swatsim for Python users. `swatsim.results` loads `swatsim run` reports and `swatsim sweep`
directories into pandas DataFrames (docs/sweeps.md). Pure Python; pandas from Debian's
python3-pandas. Use with PYTHONPATH=python."""

__all__ = ["results"]
