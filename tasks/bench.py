"""invoke tasks (bench)."""
