"""Reviews into the store: one case per new 中评/差评, nothing twice.

A chunk of reviews is one write job (one transaction): the reviews already imported
(same shop, order and sub-order) are found in one query, the open conversations of the same
buyer and order in another, and the rest go in with two multi-row inserts. The review text
is masked before it is stored, as every text the store keeps (bot/store/mask.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, select, tuple_

from bot.engine import Engine
from bot.intake import tables
from bot.intake.records import ReviewIn
from bot.intake.triage import Reading, combined
from bot.models import Case, Conversation
from bot.store import schema
from bot.store.db import Store, _kept_key, buyer_key
from bot.store.mask import mask_case, mask_id

_C, _R = schema.conversations.c, tables.reviews.c
CHUNK = 1000


@dataclass
class ImportResult:
    cases: int = 0  # conversations opened
    reviews: int = 0  # reviews added (several may share a case: one buyer, one order)
    existing: int = 0  # already imported before (or twice in this input)
    ids: list[str] = field(default_factory=list)  # the conversations opened

    def add(self, other: ImportResult) -> None:
        self.cases += other.cases
        self.reviews += other.reviews
        self.existing += other.existing
        self.ids.extend(other.ids)


def utc(value: datetime | None) -> datetime | None:
    """A time as UTC: SQLite keeps a datetime's wall-clock time without its zone, and the
    store reads every stored time back as UTC."""
    return value.astimezone(UTC) if value is not None and value.tzinfo else value


def case_of(review: ReviewIn) -> Case:
    """The case fields of a review, as a person would type them in."""
    return Case(shop=review.shop, buyer_name=review.buyer_name, order_id=review.order_id,
                product=review.product, platform=review.platform, review_rating=review.rating,
                review_text=review.review_text, review_time=review.review_time, order_date=review.order_date,
                review_followup=review.followup_text, shop_reply=review.shop_reply)


def id_key(value: str) -> str:
    """An order or sub-order number as the store keys it (Store.create's order key)."""
    return _kept_key(value, mask_id(value))


def _job(engine: Engine, chunk: list[ReviewIn], now: datetime) -> Callable[[Connection], ImportResult]:
    script = engine.script
    readings: dict[str, tuple[Reading, str | None]] = {}

    def job(conn: Connection) -> ImportResult:
        done = ImportResult()
        keys = {r: (r.shop, id_key(r.order_id), id_key(r.sub_order_id)) for r in chunk}
        seen: set[tuple[str, str, str]] = set()
        for part in _parts(sorted(set(keys.values()))):
            seen.update((row.shop, row.order_id, row.sub_order_id) for row in conn.execute(
                select(_R.shop, _R.order_id, _R.sub_order_id).where(
                    tuple_(_R.shop, _R.order_id, _R.sub_order_id).in_(part))))
        new: list[ReviewIn] = []
        for r in chunk:
            if keys[r] in seen:
                done.existing += 1
            else:
                seen.add(keys[r])
                new.append(r)
        if not new:
            return done
        # Open conversations of the same shop, buyer and order take the new reviews; the keys
        # and the masking are Store.create's, so a case typed in for the order is found.
        plain = {r: case_of(r) for r in new}
        ckeys = {r: (r.shop, buyer_key(c), keys[r][1]) for r, c in plain.items()}
        cases = set(ckeys.values())
        open_ids: dict[tuple[str, str, str], str] = {}
        for part in _parts(sorted(cases)):
            for row in conn.execute(select(_C.id, _C.shop, _C.buyer_key, _C.order_key).where(
                    _C.is_open, tuple_(_C.shop, _C.buyer_key, _C.order_key).in_(part))):
                open_ids[(row.shop, row.buyer_key, row.order_key)] = row.id
        conversations: list[dict[str, Any]] = []
        reviews: list[dict[str, Any]] = []
        for r in new:
            case = mask_case(plain[r])
            ckey = ckeys[r]
            conv_id = open_ids.get(ckey)
            # the review and its follow-up (追评) are read alike, and the case takes both
            (first, seed), (later, seed_later) = (_read(engine, readings, t) for t in (r.review_text, r.followup_text))
            reading = combined(first, later)
            if conv_id is None:
                # What Engine.start makes, without the first Suggestion: that is computed when
                # the case is opened (Store.last_suggestion), not for every imported row. The
                # review is the buyer's first statement: a cause it states surely is the case's.
                conv = Conversation(id=str(uuid.uuid4()), case=case, stage=script.initial,
                                    script_version=script.version)
                engine.seed_cause(conv, seed, seed_later)
                conv_id = open_ids[ckey] = conv.id
                conversations.append(dict(
                    id=conv.id, shop=r.shop, buyer_key=ckey[1], order_key=ckey[2], agent=None,
                    stage=conv.stage, outcome=None, is_open=True, turn=0, script_version=conv.script_version,
                    state=conv.model_dump_json(), created_at=now, updated_at=now, flagged=False))
                done.ids.append(conv.id)
            reviews.append(dict(
                shop=r.shop, order_id=keys[r][1], sub_order_id=keys[r][2], conversation_id=conv_id,
                source=r.source, rating=r.rating, platform=r.platform, review_time=utc(r.review_time),
                review_text=case.review_text, intent=reading.intent, cause=reading.cause,
                emotion=reading.emotion, explained_at=now if r.explained else None, created_at=now))
        if conversations:
            conn.execute(schema.conversations.insert(), conversations)
        conn.execute(tables.reviews.insert(), reviews)
        done.cases, done.reviews = len(conversations), len(reviews)
        return done

    return job


def _read(engine: Engine, readings: dict[str, tuple[Reading, str | None]],
          text: str | None) -> tuple[Reading, str | None]:
    """A review text's reading and the cause it states surely; exports repeat texts
    ("此用户没有填写评价"): each is read once."""
    known = readings.get(text or "")
    if known is None:
        u, seed = engine.review_cause(text)
        known = readings[text or ""] = (Reading(u.intent, u.cause, u.emotion) if u is not None else Reading(), seed)
    return known


def _parts(items: list[Any], size: int = 200) -> Iterable[list[Any]]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


async def import_reviews(store: Store, engine: Engine, reviews: list[ReviewIn], *,
                         progress: Callable[[int], None] | None = None) -> ImportResult:
    """Open a case for each new review, in chunks of ``CHUNK`` (each one transaction);
    ``engine`` reads the reviews and gives new cases their first stage."""
    total = ImportResult()
    now = datetime.now(UTC)
    for i in range(0, len(reviews), CHUNK):
        chunk = reviews[i:i + CHUNK]
        total.add(await store.write(_job(engine, chunk, now)))
        if progress is not None:
            progress(len(chunk))
    return total


# -- the TOP import's cursor ---------------------------------------------------------------------

_K = tables.cursors.c


async def cursor(store: Store, source: str, shop: str) -> datetime | None:
    """Where the last import from ``source`` for ``shop`` ended (None: never)."""
    async with store.db.connect() as conn:
        value = (await conn.execute(select(_K.until).where(_K.source == source, _K.shop == shop))).scalar()
    if value is None:
        return None
    when: datetime = value
    return when if when.tzinfo else when.replace(tzinfo=UTC)


async def set_cursor(store: Store, source: str, shop: str, until: datetime) -> None:
    def job(conn: Connection) -> None:
        now = datetime.now(UTC)
        res = conn.execute(tables.cursors.update().where(_K.source == source, _K.shop == shop).values(
            until=utc(until), updated_at=now))
        if not res.rowcount:
            conn.execute(tables.cursors.insert().values(source=source, shop=shop, until=utc(until), updated_at=now))

    await store.write(job)
