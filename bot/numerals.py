"""Numbers written in Chinese, as people type them: 三, 十二, 两百, 三千五, 一百零五, and the
financial forms on receipts and in careful messages (伍拾, 壹佰). One reader for the report's
periods (近三天), the hours of a callback (八点半) and the sums a buyer names (退我两百, 三十块, 伍拾元)."""

from __future__ import annotations

import re

_DIGITS = {"零": 0, "〇": 0, "一": 1, "壹": 1, "二": 2, "贰": 2, "两": 2, "俩": 2, "三": 3, "叁": 3,
           "四": 4, "肆": 4, "五": 5, "伍": 5, "六": 6, "陆": 6, "七": 7, "柒": 7, "八": 8, "捌": 8,
           "九": 9, "玖": 9}
_UNITS = {"十": 10, "拾": 10, "百": 100, "佰": 100, "千": 1000, "仟": 1000}
_CHARS = "".join(_DIGITS) + "".join(_UNITS) + "万"
# a Chinese number that is a sum: a digit before a unit of ten or more, or a ten (两百, 三十, 十五,
# 伍拾); not a single digit, even before 块 ("瓶口磕掉了一块" is a piece), nor 一半, 三成, 两个, nor a
# vague amount (几百, 十几块, 一百来块, 两百多, 上千) or a word (万一, 千万别)
_DIGIT = "".join(_DIGITS)
_SUM = re.compile(rf"(?<![几数上{_CHARS}])(?:[{_DIGIT}]+[十拾百佰千仟万]|[十拾])[{_CHARS}]*(?![几来多余{_CHARS}])")


def cn_number(text: str) -> int | None:
    """三 -> 3, 十二 -> 12, 二十一 -> 21, 两百 -> 200, 三千五 -> 3500, 一百零五 -> 105, 伍拾 -> 50;
    digits as they are; None for anything else."""
    if text.isdigit():
        return int(text)
    if not text or any(c not in _CHARS for c in text):
        return None
    total, section, digit, last_unit = 0, 0, None, 0
    for c in text:
        if c in _DIGITS:
            if digit is not None and _DIGITS[c] != 0 and digit != 0:
                return None  # 三五: two digits in a row say no one number
            digit = _DIGITS[c]
        elif c == "万":
            total += (section + (digit or 0)) * 10000
            section, digit, last_unit = 0, None, 10000
        else:
            unit = _UNITS[c]
            if last_unit and unit >= last_unit and last_unit != 10000:
                return None  # 十百: units must fall
            section += (1 if digit is None else digit) * unit
            digit, last_unit = None, unit
    if digit:
        # 两百五 is 250 and 三千五 3500 (the next unit down), 一百零五 105
        section += digit * (last_unit // 10 if last_unit >= 100 and text[-2] in (*_UNITS, "万") else 1)
    return total + section


def arabic_sums(text: str) -> str:
    """``text`` with the sums written in Chinese numerals as digits (退我两百吧 -> 退我200吧,
    三十块 -> 30块, 伍拾元 -> 50元), so that one reading of sums serves both ways of writing them."""
    if not any(c in _CHARS for c in text):
        return text

    def digits(m: re.Match[str]) -> str:
        n = cn_number(m.group(0))
        return m.group(0) if n is None else str(n)

    return _SUM.sub(digits, text)


__all__ = ["arabic_sums", "cn_number"]
