"""Layer 6, what is done with finished runs: merging the hosts' parts, the control
re-run, cutting grids into groups, walk-forward, overfitting statistics and the report.
May import every layer below it, the runner included.
"""
