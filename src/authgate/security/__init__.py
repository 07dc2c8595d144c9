"""Secrets at rest, constant-time comparison and random identifiers."""
