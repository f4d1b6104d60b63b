"""Masking personal data (phone numbers, ID numbers, addresses) before text is stored."""

from __future__ import annotations

import re

# Each rule with what a match cannot do without (every one of these must occur): most
# messages hold no digit and no address word, and then the rule need not run (the address
# patterns are slow to fail on long Chinese text). \d is any Unicode digit, as in the rules.
_RULES: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)"), "[身份证号]", r"\d"),
    (re.compile(r"(?<!\d)1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)"), "[手机号]", "1"),
    (re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)"), "[电话]", "0"),
    (re.compile(r"[\u4e00-\u9fff]{2,}(?:省|市|区|县|镇|乡|街道)[\u4e00-\u9fff\d]{0,20}"
                r"(?:路|街|巷|弄|村|小区|花园|公寓|大厦)[\u4e00-\u9fff\d-]{0,12}(?:号|栋|幢|单元|室|楼)?"
                r"(?:[\d-]+(?:号|栋|幢|单元|室|楼)?)*"), "[地址]", "[省市区县镇乡街] [路街巷弄村小花公大]"),
    (re.compile(r"[\u4e00-\u9fff]{1,10}(?:路|街|巷|弄)\d+号(?:[\d-]+(?:栋|幢|单元|室|楼))*"), "[地址]",
     "[路街巷弄] 号"),
]
_NEEDS = [[re.compile(n) for n in needs.split()] for _, _, needs in _RULES]
# Every rule needs its first "needs" pattern: a text with none of them needs no rule.
_ANY_NEED = re.compile("|".join(needs.split()[0] for _, _, needs in _RULES))


# Chinese input methods type full-width digits too (１３８…): the rules read them as ASCII.
_ASCII = str.maketrans("０１２３４５６７８９－　", "0123456789- ")


def mask(text: str) -> str:
    """The text with phone numbers, ID numbers and street addresses replaced by placeholders."""
    probe = text.translate(_ASCII)  # same length: a match in it is a match in the text
    if not _ANY_NEED.search(probe):
        return text  # most messages
    for (pattern, repl, _), needs in zip(_RULES, _NEEDS, strict=True):
        if not all(n.search(probe) for n in needs):
            continue
        spans = [m.span() for m in pattern.finditer(probe)]
        for start, end in reversed(spans):
            text = text[:start] + repl + text[end:]
            probe = probe[:start] + repl + probe[end:]
    return text
