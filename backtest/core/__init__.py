"""Layer 0, the ground every other layer stands on: configuration (symbols, periods,
run defaults, YAML overrides), the run-wide value types (``RunSettings``), atomic file
writes and the code version recorded in every output. Imports nothing else of ibsweep.
"""
