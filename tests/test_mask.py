"""Masking personal data before it is stored: the quick checks that skip a rule never
change what it masks."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.store.mask import _RULES, mask
from tests.conftest import DATA, read_jsonl

PIECES = ["1", "3", "8", "0", "5", "１", "３", "８", "０", "－", "-", " ", "X", "浙江", "杭州", "市", "西湖",
          "区", "文三", "路", "街道", "小区", "花园", "号", "栋", "单元", "室", "我", "家", "在", "的", "电话", "是"]


def unguarded(text: str) -> str:
    """The rules as written, on text without full-width digits."""
    for pattern, repl, _ in _RULES:
        text = pattern.sub(repl, text)
    return text


WIDE = str.maketrans("０１２３４５６７８９－　", "0123456789- ")


def ascii_only(text: str) -> bool:
    return text == text.translate(WIDE)


@settings(max_examples=600, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=30).map("".join))
def test_the_quick_checks_change_nothing(text: str) -> None:
    if ascii_only(text):
        assert mask(text) == unguarded(text)
    # full-width digits are masked like ASCII ones; what is not masked keeps its width
    assert mask(text).translate(WIDE) == unguarded(text.translate(WIDE))


def test_the_data_sets_mask_as_before() -> None:
    for name in ("buyer_dev.jsonl", "agent_dev.jsonl", "guard_dev.jsonl", "heldout/buyer.jsonl"):
        for row in read_jsonl(DATA / name):
            if ascii_only(row["text"]):
                assert mask(row["text"]) == unguarded(row["text"])


def test_what_is_masked() -> None:
    assert mask("我电话13812345678，身份证110101199003071234") == "我电话[手机号]，身份证[身份证号]"
    assert mask("全角的１３８１２３４５６７８也算") == "全角的[手机号]也算"
    assert mask("寄到浙江省杭州市西湖区文三路90号3栋") == "[地址]"
    assert mask("东西寄到了，中山路12号") == "东西寄到了，[地址]"
    assert mask("衣服质量不好，颜色也不对") == "衣服质量不好，颜色也不对"
    assert mask("３月２号收到的") == "３月２号收到的"  # nothing personal: kept as typed
    assert mask("电话０５７１－８８８８１２３４") == "电话[电话]"
