"""Models of the prevention app (filled in as it is built)."""
