"""A fresh PostgreSQL database per test session, on the machine's server.

CSBOT_TEST_PG names the server (default: postgresql://postgres@127.0.0.1:5432/test);
scripts/test starts or installs one when none runs. Unreachable means failure, not a skip.
"""

from __future__ import annotations

import asyncio
import os
import uuid

import asyncpg

BASE = os.environ.get("CSBOT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def _admin_url() -> str:
    return BASE


def create_database() -> str:
    """Create an empty database and return its URL."""
    name = f"csbot_t_{uuid.uuid4().hex[:10]}"

    async def go() -> None:
        conn = await asyncpg.connect(_admin_url())
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(go())
    return BASE.rsplit("/", 1)[0] + "/" + name


def drop_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]

    async def go() -> None:
        conn = await asyncpg.connect(_admin_url())
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()

    asyncio.run(go())
