"""invoke tasks (run)."""
