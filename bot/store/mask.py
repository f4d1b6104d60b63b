"""Masking personal data (phone numbers, ID numbers, addresses) before text is stored."""

from __future__ import annotations

import re

_RULES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)"), "[身份证号]"),
    (re.compile(r"(?<!\d)1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?!\d)"), "[手机号]"),
    (re.compile(r"(?<!\d)0\d{2,3}-?\d{7,8}(?!\d)"), "[电话]"),
    (re.compile(r"[\u4e00-\u9fff]{2,}(?:省|市|区|县|镇|乡|街道)[\u4e00-\u9fff\d]{0,20}"
                r"(?:路|街|巷|弄|村|小区|花园|公寓|大厦)[\u4e00-\u9fff\d-]{0,12}(?:号|栋|幢|单元|室|楼)?"
                r"(?:[\d-]+(?:号|栋|幢|单元|室|楼)?)*"), "[地址]"),
    (re.compile(r"[\u4e00-\u9fff]{1,10}(?:路|街|巷|弄)\d+号(?:[\d-]+(?:栋|幢|单元|室|楼))*"), "[地址]"),
]


def mask(text: str) -> str:
    """The text with phone numbers, ID numbers and street addresses replaced by placeholders."""
    for pattern, repl in _RULES:
        text = pattern.sub(repl, text)
    return text
