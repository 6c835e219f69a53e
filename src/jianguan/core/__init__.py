"""Shared kernel: identifiers, errors and time helpers that every app may use."""
