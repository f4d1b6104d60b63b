"""The buyer's name as a text must not show it: a public reply (商家回复, read by every future
buyer) and the copy of one kept at rest. Chat with the buyer may use it; a public text says 您,
or the surname and a form of address (王女士), which names nobody."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache

_CJK_NAME = re.compile(r"[\u4e00-\u9fff·]{2,6}")
_LATIN_NAME = re.compile(r"[A-Za-z][A-Za-z.'-]*(?: [A-Za-z][A-Za-z.'-]*)+")
# a two-character "name" that is a way to call someone (小王, 老李, 阿强), not a real name
_NICKNAME_HEAD = frozenset("小老阿")
_COMPOUND = ("欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "慕容", "令狐", "公孙", "尉迟", "司徒", "夏侯")


@cache
def titles() -> tuple[str, ...]:
    """The forms of address after a surname (王女士, 李姐 call someone, they name nobody): the
    bundled guard.yaml's ``public_name.titles``, for readers with no shop's data at hand (the
    store masking a case); the guard reads the shop's own list."""
    from bot.dataload import load_yaml
    from bot.paths import dialogs_dir

    return tuple((load_yaml(dialogs_dir(None), "guard.yaml").get("public_name") or {}).get("titles") or ())


def full_name(buyer_name: str | None, forms: Sequence[str] | None = None) -> str | None:
    """The case's buyer name when it is a real full name (王小明, 陈静, Li Lei): None for a
    surname alone (王), a way to call someone (小王, 王女士, 李姐: ``forms``, by default
    ``titles()``) or a platform nickname (b**1, tb_8812)."""
    name = (buyer_name or "").strip()
    if _CJK_NAME.fullmatch(name):
        if name.endswith(tuple(titles() if forms is None else forms)) or name.startswith("亲"):
            return None
        return None if len(name) == 2 and name[0] in _NICKNAME_HEAD else name
    return name if _LATIN_NAME.fullmatch(name) else None


def surname(name: str) -> str:
    """The surname of a Chinese full name (欧阳娜娜 → 欧阳); a Latin name's last word."""
    if " " in name:
        return name.rsplit(" ", 1)[1]
    return name[:2] if name.startswith(_COMPOUND) and len(name) > 2 else name[:1]


def find_name(text: str, name: str) -> list[tuple[int, int]]:
    """Where ``name`` stands in ``text`` (a Latin name in any case)."""
    flags = re.IGNORECASE if name.isascii() else 0
    return [m.span() for m in re.finditer(re.escape(name), text, flags)]


def mask_name(text: str, buyer_name: str | None, placeholder: str = "[姓名]") -> str:
    """``text`` with the buyer's full name replaced by ``placeholder`` (王小明女士 → [姓名]女士)."""
    name = full_name(buyer_name)
    if name is None or not text:
        return text
    flags = re.IGNORECASE if name.isascii() else 0
    return re.sub(re.escape(name), placeholder, text, flags=flags)


__all__ = ["find_name", "full_name", "mask_name", "surname", "titles"]
