"""Search: Optuna's samplers over the fast kernel (``invoke optimize``, docs/ANALYSIS.md,
"Optimize"). Above the analysis layer: a search writes a run's results (the runner's
files) and its own page in the report's conventions."""
