"""Outbox: every service write appends a domain event in the same transaction (DESIGN.md §4),
and consumers read the events at least once, idempotently by event id."""
