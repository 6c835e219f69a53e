"""Audit: an append-only, hash-chained record of who did or viewed what (DESIGN.md §4)."""
