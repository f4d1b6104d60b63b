"""Alembic's script directory: env.py and the frozen revisions in versions/ (see bot/store/migrations.py)."""
