"""Adapters between csbot's pipeline and where agents talk: the console, JSON lines, platforms."""
