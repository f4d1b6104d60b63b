"""Masking personal data (phone numbers, ID numbers, addresses, names) before text is stored.

Every rule runs in time linear in the text: a message is at most a few thousand characters,
but a rule that backtracks over it from every position (as the address rule once did:
28 s for 21,000 characters) freezes whatever runs it. bench/mask.py measures the ratio.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from bot.guard.names import mask_name
from bot.models import AgentUnderstanding, Case, Finding, Suggestion

_CJK = "\u4e00-\u9fff"
_UNIT = "(?:号|栋|幢|单元|室|楼)"
_ADMIN_FIRST = frozenset("省市区县镇乡街")

# The street address after its district word (省/市/区/县/镇/乡/街道): a road-like word within
# twenty characters, then the number. Tried only where a district word stands, so each try
# looks a bounded way ahead (the tail only runs on a match, and a match moves on past it).
_ADDRESS_CORE = re.compile(
    rf"(?:省|市|区|县|镇|乡|街道)[{_CJK}\d]{{0,20}}(?:路|街|巷|弄|村|小区|花园|公寓|大厦)"
    rf"[{_CJK}\d-]{{0,12}}{_UNIT}?(?:[\d-]+{_UNIT}?)*")
_CJK_RUN = re.compile(rf"[{_CJK}]+")

# The address rule as one regular expression, as it was first written: what _find_address
# finds, the same spans (tests/test_mask.py checks it on generated text). It backtracks over
# the whole run of Chinese characters from every start, so it is never run on a message.
ADDRESS_SPEC = (rf"[{_CJK}]{{2,}}(?:省|市|区|县|镇|乡|街道)[{_CJK}\d]{{0,20}}"
                rf"(?:路|街|巷|弄|村|小区|花园|公寓|大厦)[{_CJK}\d-]{{0,12}}{_UNIT}?(?:[\d-]+{_UNIT}?)*")


def _find_address(probe: str) -> Iterator[tuple[int, int]]:
    """The spans ``re.finditer(ADDRESS_SPEC, probe)`` gives, in linear time.

    The expression matches from the first position of a run of Chinese characters, and its
    greedy prefix gives the match of the LAST district word (two or more characters into
    the run) whose address core matches; no later start in the run can match if that one
    cannot. So: per run, try the district words from the right, each a bounded look ahead.
    """
    pos = 0
    while run := _CJK_RUN.search(probe, pos):
        start, end = run.span()
        found = None
        for q in range(end - 1, start + 1, -1):
            if probe[q] in _ADMIN_FIRST and (m := _ADDRESS_CORE.match(probe, q)):
                found = m.end()
                break
        if found is None:
            pos = end
            continue
        yield start, found
        pos = found


def _regex(pattern: str) -> Callable[[str], Iterator[tuple[int, int]]]:
    compiled = re.compile(pattern)
    return lambda probe: (m.span() for m in compiled.finditer(probe))


# Each rule, what it puts in place of a match, and what a match cannot do without (every one
# of these must occur; each is part of the rule's own pattern, so a text without it has no
# match): most messages hold no run of digits and no address word, and then the rule need not
# run. \d is any Unicode digit, as in the rules. Order matters: an ID number is masked before
# a phone number could be found inside it.
_PATTERNS: list[tuple[str, str, str]] = [
    # 18-digit resident ID, also typed in groups (110101 19900307 1234)
    (r"(?<!\d)\d{6}[\s-]?\d{8}[\s-]?\d{3}[\dXx](?!\d)", "[身份证号]", r"\d{6}"),
    # 15-digit ID of before 1999: region, YYMMDD, sequence
    (r"(?<!\d)\d{8}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}(?!\d)", "[身份证号]", r"\d{15}"),
    # mobile, with the country code (+86, 0086, 86) and groups split by space, - or .
    (r"(?<!\d)(?:(?:\+|00)86[\s.-]?|86[\s.-]?)?1[3-9]\d[\s.-]?\d{4}[\s.-]?\d{4}(?!\d)",
     "[手机号]", r"1[3-9]\d"),
    # landline with its area code: 0571-88881234, 010 12345678, (010)12345678
    (r"(?:(?<!\d)0\d{2,3}[\s.-]?|\(0\d{2,3}\)\s?)\d{7,8}(?!\d)", "[电话]", r"\d{7}"),
]
# A recipient's name (收件人/收货人 on an order, or typed in a pasted order line): after its
# label ("收货人：张伟", "收件人李娜", "联系人姓名 王小明"), or right before the phone number in
# the "name，phone，address" line Taobao copies an order's address as (the phone is masked by
# then). Only the name (group ``name``) is replaced. A name is two to four Chinese characters
# (or a Latin name); words that follow a label without being a name (收货人电话, 收件人不是我,
# 收货人写错了) do not start one, and function words end it (收件人李娜也没收到: 李娜).
_NAME_STOP = ("信息|电话|手机|号码|地址|姓名|名字|本人|自己|家人|朋友|同事|快递|"
              "写|填|改|换|留|不|没|是|叫|为|的|和|跟|在|也|都|就|还|要|那|这|"
              "我|你|您|他|她|它|一|有|错|对|栏|处|说|可|能|会|请|给|吗|呢|啊|吧|了")
_NAME_END = "也没不的了吗呢啊吧是在和跟都就还说写填改收电地手号我你您他她要让给把被对错栏处请"
_NAME = (rf"(?P<name>(?!{_NAME_STOP})[{_CJK}](?:(?![{_NAME_END}])[{_CJK}]){{1,3}}"
         r"|[A-Za-z][A-Za-z.]{1,20}(?: [A-Za-z][A-Za-z.]{1,20})?)")
NAME_PATTERNS: list[tuple[str, str, str]] = [
    (rf"(?:(?:收件人|收货人|联系人|签收人)的?(?:姓名|名字)?|姓名)\s{{0,3}}(?:是|叫|为)?\s{{0,3}}[:：]?\s{{0,3}}{_NAME}",
     "[姓名]", "收件人|收货人|联系人|签收人|姓名"),
    (rf"(?<![{_CJK}])(?P<name>(?!电话|手机|号码|联系|微信|座机|本人|收件人|收货人|是|打|拨|我|你|您)[{_CJK}]{{2,4}})"
     r"[,，、\s]{1,3}(?=\[手机号\])", "[姓名]", r"\[手机号\]"),
]
# A name said on its own after a word that introduces one: 我叫王芳, 我的名字是欧阳娜娜, 叫我王芳就行,
# 找张伟 / 找一下周敏. These words are everyday words too (找不到, 找时间, 我叫了快递, 叫我小王), so here
# a name is a common surname then one or two given characters: a surname that often starts an
# ordinary word after 找 (方法, 时间, 马上, 钱, 高手, 余额…) is not in the list, a title after the
# surname (王经理, 李师傅, 张先生) is a form of address and no name, and a word after the surname
# that names a thing (黄色, 周末, 石头) is no given name.
_SURNAMES = ("欧阳|司马|诸葛|上官|东方|皇甫|慕容|令狐|公孙|尉迟|"
             "[王李张刘陈杨黄赵吴周徐孙朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾萧蔡潘田董袁叶蒋杜苏魏吕丁沈姚"
             "卢姜崔谭陆汪廖贾韦夏邱侯邹熊孟秦尹薛闫雷黎陶贺顾郝龚邵严覃戴莫孔汤]")
_NOT_GIVEN = ("经理|老板|师傅|主管|客服|店长|阿姨|叔叔|先生|女士|小姐|老师|医生|同学|律师|大夫|记者|同事|"
              "色|末|边|头|天|款|码|件|个|些|点|下|上|到|回|出|过|总|姐|哥|叔|姨|工|师|家|某|子|氏")
_GIVEN_END = _NAME_END + "核确问帮看查处理联反投来去过再"
NAME_CUE_PATTERN = (
    rf"(?:我叫|本人叫|名字(?:是|叫)|叫我|找(?:一下)?)\s{{0,2}}(?P<name>(?:{_SURNAMES})(?!{_NOT_GIVEN})"
    rf"(?:(?![{_GIVEN_END}])[{_CJK}]){{1,2}})")
NAME_PATTERNS.append((NAME_CUE_PATTERN, "[姓名]", "叫|找|名字"))


def _named(pattern: str) -> Callable[[str], Iterator[tuple[int, int]]]:
    compiled = re.compile(pattern)
    return lambda probe: (m.span("name") for m in compiled.finditer(probe))


_RULES: list[tuple[Callable[[str], Iterator[tuple[int, int]]], str, str]] = [
    *((_regex(p), repl, needs) for p, repl, needs in _PATTERNS),
    (_find_address, "[地址]", "[省市区县镇乡街] [路街巷弄村小花公大]"),
    (_regex(rf"[{_CJK}]{{1,10}}(?:路|街|巷|弄)\d++号(?:[\d-]+(?:栋|幢|单元|室|楼))*"), "[地址]",
     "[路街巷弄] 号"),
    *((_named(p), repl, needs) for p, repl, needs in NAME_PATTERNS),
]
_NEEDS = [[re.compile(n) for n in needs.split()] for _, _, needs in _RULES]
# Every rule needs its first "needs" pattern (three digits in a row, a district or a road
# word): a text with none of them needs no rule. Dates, sizes and prices ("3月2号", "29.9元")
# have digits but no run of three: 80k instructions each when every rule was tried on them
# (callgrind). Read on the text itself: the full-width characters _ASCII translates are digits
# (\d either way) or punctuation no rule starts from, so translating first (2-3 µs a message)
# changes nothing here. Written as one character class first (a word, or a digit followed by
# two more): ``\d{3}|[…]`` makes ``re`` try both branches at every position, twice as slow.
# (收联签姓: a recipient's name label; 手: the masked phone number a pasted order line's name stands before)
# (叫找名: a name said after 我叫, 名字是 or 找)
_ANY_NEED = re.compile(r"[\d省市区县镇乡街路巷弄收联签姓手叫找名](?:(?<=\D)|\d\d)")


# Chinese input methods type full-width digits and brackets too (１３８…): the rules read them
# as ASCII. One character for one, so a match in the probe is a match in the text.
_ASCII = str.maketrans("０１２３４５６７８９－　．（）＋", "0123456789- .()+")


# A link's digits are ids (id=…, spm=…), not phone numbers: a match inside a link is kept.
_LINK = re.compile(r"https?://[!-~]+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Edit:
    """One replacement: ``[start, end)`` of the text before it became ``length`` characters."""

    start: int
    end: int
    length: int


_PHONE_RULE = 2  # an id (buyer_id, order_id) is masked for phone numbers only: order numbers
# are long digit strings that the ID-number rules would take


def mask_edits(text: str, only: int | None = None) -> tuple[str, list[list[Edit]]]:
    """The masked text and, per rule that changed it, its replacements (in the coordinates
    of the text that rule saw), for moving spans from the text into the masked one."""
    if not _ANY_NEED.search(text):
        return text, []  # most messages
    probe = text.translate(_ASCII)
    steps: list[list[Edit]] = []
    for i, ((find, repl, _), needs) in enumerate(zip(_RULES, _NEEDS, strict=True)):
        if (only is not None and i != only) or not all(n.search(probe) for n in needs):
            continue
        spans = list(find(probe))
        if spans and "://" in probe:
            links = [m.span() for m in _LINK.finditer(probe)]
            spans = [(a, b) for a, b in spans if not any(a < end and start < b for start, end in links)]
        if not spans:
            continue
        out, wide, last = [], [], 0
        for start, end in spans:  # built in one pass: replacing one by one copied the text each time
            out.append(probe[last:start])
            wide.append(text[last:start])
            out.append(repl)
            wide.append(repl)
            last = end
        out.append(probe[last:])
        wide.append(text[last:])
        probe, text = "".join(out), "".join(wide)
        steps.append([Edit(s, e, len(repl)) for s, e in spans])
    return text, steps


def mask(text: str) -> str:
    """The text with phone numbers, ID numbers, street addresses and recipients' names replaced
    by placeholders."""
    return mask_edits(text)[0]


def mask_id(text: str) -> str:
    """An identifier with any phone number in it masked (``tb_lilei_13812345678``)."""
    return mask_edits(text, only=_PHONE_RULE)[0]


def move_span(span: tuple[int, int], steps: list[list[Edit]]) -> tuple[int, int]:
    """A ``[start, end)`` span of the text as a span of its masked form: a span reaching into a
    masked part covers the whole placeholder."""
    start, end = span
    for edits in steps:
        start, end = _move(start, edits, True), _move(end, edits, False)
    return start, max(start, end)


def _move(x: int, edits: list[Edit], is_start: bool) -> int:
    delta = 0
    for e in edits:
        if (x < e.start) if is_start else (x <= e.start):
            break
        if (x < e.end) if is_start else (x <= e.end):
            return e.start + delta + (0 if is_start else e.length)
        delta += e.length - (e.end - e.start)
    return x + delta


_ID_FIELDS = frozenset({"buyer_id", "order_id"})
# Fields that are codes or the shop's own words, never a buyer's: kept as they are.
_KEPT_FIELDS = frozenset({"shop", "platform", "review_rating", "channel", "agent", "honorific"})


def mask_case(case: Case) -> Case:
    """The case as stored: every free-text field masked (review text, names, notes, product),
    ids masked for the phone numbers some platforms build them from. The buyer's full name is
    kept where the case needs it (``buyer_name``: the agent calls the buyer by it) and masked in
    every other text (an imported 商家回复 "感谢王小明女士的反馈" is kept as "感谢[姓名]女士的反馈")."""
    update: dict[str, str] = {}
    for name, value in case:
        if isinstance(value, str) and name not in _KEPT_FIELDS:
            done = mask_id(value) if name in _ID_FIELDS else mask(value)
            if name not in _ID_FIELDS and name != "buyer_name":
                done = mask_name(done, case.buyer_name)
            if done != value:
                update[name] = done
    return case.model_copy(update=update) if update else case


def masked_suggestion(sug: Suggestion, masked: str, steps: list[list[Edit]]) -> Suggestion:
    """The Suggestion as stored: the understanding quotes the masked message, and every
    finding's span points into it (a span on a masked part covers its placeholder)."""

    def moved(findings: list[Finding]) -> list[Finding]:
        return [f if f.span is None else f.model_copy(update={"span": move_span(f.span, steps)})
                for f in findings]

    update: dict[str, Any] = {"warnings": moved(sug.warnings)}
    u = sug.understanding
    if u is not None:
        extra: dict[str, Any] = {"text": masked}
        if isinstance(u, AgentUnderstanding):
            extra["findings"] = moved(u.findings)
        update["understanding"] = u.model_copy(update=extra)
    return sug.model_copy(update=update)
