"""swatsim for Python users (docs/python.md). Pure Python and NumPy; pandas for `swatsim.results`
(Debian's python3-pandas). Use with PYTHONPATH=python.

- `swatsim.trace`: read and write trace format v1 (streaming, atomic; raw blobs byte-identical to the
  C++ writer's).
- `swatsim.results`: `swatsim run` reports and `swatsim sweep` directories as pandas DataFrames.
"""

__all__ = ["results", "trace"]
