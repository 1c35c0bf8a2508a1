"""invoke tasks (analysis)."""
