"""invoke tasks (data)."""
