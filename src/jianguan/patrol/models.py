"""Models of the patrol app (filled in as it is built)."""
