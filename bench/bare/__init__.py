"""A bare Django project: one JSON view, no database, no middleware — the floor for bench/."""
