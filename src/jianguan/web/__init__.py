"""The staff web UI: login, a home page per post, lists and records, in Chinese first."""
