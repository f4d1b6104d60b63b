"""Persistence: SQLite (embedded default, one writer with group commit) or PostgreSQL."""
