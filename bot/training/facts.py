"""Per-turn facts of a trainee reply, read once and used by both the buyer and the grader.

The core engine supplies the acts, guard findings, policy notes and stages; the rubric's
``facts`` section adds a few derived facts (a money offer, the buyer's right to choose,
how many concrete remedies a message names...). Keeping one source means the simulated
buyer reacts to exactly what the grader scores.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from typing import Any

from pydantic import BaseModel, Field

from bot.models import AgentUnderstanding, Conversation, Finding, Suggestion
from bot.training.match import Match, Strict, holds


class FactRule(Strict):
    """A derived fact: true when its text pattern, condition and remedy count all hold."""

    text: str | None = Field(default=None, description="regex on the normalised message")
    when: Match = Field(default_factory=Match)
    min_remedies: int | None = Field(default=None,
                                     description="the message names at least this many remedies, "
                                     "as that many options (cues on the same words are one option)")


class TurnFacts(BaseModel):
    """Everything known about one trainee reply once the engine has applied it."""

    turn: int
    text: str
    stage: str
    stage_after: str
    acts: list[str]
    findings: list[Finding]
    notes: list[Finding]
    facts: list[str]
    remedies: list[str]
    context: dict[str, Any]
    buyer_before: str | None

    @property
    def blocked(self) -> bool:
        """The reply has a block finding (it could not be sent in real work)."""
        return any(f.severity == "block" for f in self.findings)

    @property
    def signals(self) -> list[str]:
        """Acts, finding codes, note codes and derived facts, in that order, without repeats."""
        out: list[str] = []
        for s in [*self.acts, *(f.code for f in self.findings), *(n.code for n in self.notes),
                  *self.facts]:
            if s not in out:
                out.append(s)
        return out

    def holds(self, m: Match) -> bool:
        """Whether condition ``m`` holds for this turn."""
        return holds(m, self.signals, self.stage, self.stage_after, self.context,
                     self.buyer_before)


# The facts name_facts() may add (besides the rubric's own): usable in rubric and personas.
NAME_FACTS = ("names_buyer", "wrong_honorific", "wrong_name")
# Added by the session once the buyer has answered: the reply met nothing the buyer was
# waiting for, so they asked again and lost patience (usable in the rubric, not in personas).
BUYER_PRESSED = "buyer_pressed"
# Added by the session when the trainee's reply ended the chat while the buyer still waited
# for something on their agenda (how to change the review, the remedy...): for the rubric.
BUYER_WAITING = "buyer_waiting"
# Added by the session once the buyer has said no to changing the review (the persona's answer):
# a later request argues with that no however many lines ago it was said (for the rubric).
REVIEW_REFUSED = "review_refused"
# Added by the session when the buyer's reader finds a problem (a cause) in the trainee's reply
# ("发成菊花茶了，实在对不起"): an apology that names it is about the problem, not a politeness
# ("不好意思打扰您了"), in whatever stage it is said (for the rubric).
NAMES_PROBLEM = "names_problem"
# Added by the session when the reply's benefit-for-review tie holds nothing beyond the remedy
# the buyer is owed (no rubric fact EXTRA_BENEFIT in it or the two replies before): "补发的两盒
# 明天寄出。另外能帮忙把评价改一下吗？" - the remedy promised and not done reads as the price (the
# tip says so; for the rubric's turn tips).
TIED_TO_REMEDY = "tied_to_remedy"
# Added by the session when the guard ties the reply's offer to a review request in an earlier
# message and the reply itself asks nothing ("给您两个选择：换成33码……" after an early "那个中评
# 能帮忙改一下吗？"): the tie is the offer made right after the request (for the rubric's turn tips).
OFFER_AFTER_REQUEST = "offer_after_request"
EXTRA_BENEFIT = "extra_benefit"
# Added by the session when the buyer gave up on that reply and left (for the rubric: the
# warning says the buyer left, not that they asked again).
BUYER_GAVE_UP = "buyer_gave_up"
_MALE = ("先生", "哥", "帅哥", "大哥", "叔叔", "大叔")
_FEMALE = ("女士", "小姐", "姐", "美女", "阿姨", "大姐", "妹妹")
_HONORIFIC = re.compile("(" + "|".join(sorted(_MALE + _FEMALE, key=len, reverse=True)) + ")")


# How an honorific ends says the gender too (王妈, 大妈, 张大爷, 李叔): for the tips' 她 / 他 only,
# not for the name facts' pattern (陈静妈妈 is no honorific of the buyer's).
_MALE_ENDS = ("先生", "哥", "叔", "爷", "伯")
_FEMALE_ENDS = ("女士", "小姐", "姐", "姨", "妈", "奶奶", "婆", "妹")


def gender_of(honorific: str) -> str | None:
    """"male" or "female" from an honorific (先生 / 女士 / 阿姨 / 大爷…), None when it says nothing."""
    if honorific in _MALE:
        return "male"
    if honorific in _FEMALE:
        return "female"
    if honorific.endswith(_MALE_ENDS):
        return "male"
    return "female" if honorific and honorific.endswith(_FEMALE_ENDS) else None


class BuyerRef(BaseModel):
    """Who the buyer is, for the name and honorific facts: name and, when known, gender."""

    name: str
    gender: str | None = None
    # Forms of address of the other gender (rubric ``address_forms``): "姑娘" to 赵建国先生 is wrong
    # whether or not a name comes before it.
    wrong_forms: list[str] = Field(default_factory=list)


# A form of address said to the buyer: it opens the line or a clause ("姑娘，…", "帅哥您好",
# "好的先生，…") and the clause goes on to the buyer or ends. Said of somebody else, it does not
# stand alone: "您先生用着还好吗", "姑娘穿着挤脚吧" (the buyer's husband, the buyer's daughter).
_VOCATIVE = ("(?:^|(?<=[,，。!?~\\s])|(?<=好的|好嘞|您好|你好|谢谢|抱歉|哈喽)|(?<=嗨|哎|诶|亲))"
             "(?:亲爱的)?({forms})(?=$|[,，。!?~\\s]|您|你|好|在|请|呀|啊|哈|呢)")


# Another person's full name before 先生 / 女士 ("沈雅女士您好" to 周敏): two or three characters
# opening the line or a clause, or after 请问是, that are no greeting or pronoun ("您好女士").
_FULL_NAME = re.compile(r"(?:^|[,，。!?~\s]|请问是|您是|是不是)([\u4e00-\u9fff]{2,3})$")
_NOT_NAME = re.compile("[您你好位的亲是请问这那各尊老谢哈嗨在吗呀啊]")


def _other_surname(before: str) -> bool:
    """Another surname before 先生 / 女士 ("请问是王先生吗" to 林志明); not "您好女士"."""
    m = re.search(r"(请问|您|你|^)是?([\u4e00-\u9fff])$", before)
    return m is not None and not _NOT_NAME.search(m.group(2))


def _other_name(before: str, surname: str) -> bool:
    m = _FULL_NAME.search(before)
    return m is not None and not _NOT_NAME.search(m.group(1)) and not m.group(1).startswith(surname)


def name_facts(norm_text: str, buyer: BuyerRef) -> list[str]:
    """`names_buyer` when the reply addresses the buyer by name (the full name, or the
    surname with an honorific); `wrong_honorific` when the name or surname comes with an
    honorific of the other gender; `wrong_name` when another surname takes the honorific
    ("请问是王先生吗" to 林志明)."""
    name, surname = buyer.name, buyer.name[:1]
    out: list[str] = []
    honorific_after_surname = False
    for m in _HONORIFIC.finditer(norm_text):
        before = norm_text[:m.start()]
        word = m.group(1)
        if before.endswith(name) or before.endswith(surname):
            honorific_after_surname = True
            said = gender_of(word)
            if buyer.gender and said and said != buyer.gender and "wrong_honorific" not in out:
                out.append("wrong_honorific")
        elif word in ("先生", "女士", "小姐") and "wrong_name" not in out and (
                _other_surname(before) or _other_name(before, surname)):
            out.append("wrong_name")
    if buyer.wrong_forms and "wrong_honorific" not in out:
        forms = "|".join(sorted(map(re.escape, buyer.wrong_forms), key=len, reverse=True))
        if re.search(_VOCATIVE.replace("{forms}", forms), norm_text):
            out.append("wrong_honorific")
    if name in norm_text or honorific_after_surname:
        out.insert(0, "names_buyer")
    return out


class FactBook:
    """Derives the rubric's facts and the remedies a message names."""

    def __init__(self, rules: dict[str, FactRule], remedy_cues: dict[str, str]) -> None:
        self.rules = rules
        self._text = {name: re.compile(r.text) for name, r in rules.items() if r.text}
        self._remedies = {rid: re.compile(p) for rid, p in remedy_cues.items()}

    def remedies(self, norm_text: str) -> list[str]:
        """The remedy ids whose cue appears in the text, in the rubric's order."""
        return [rid for rid, pat in self._remedies.items() if pat.search(norm_text)]

    def options(self, norm_text: str) -> int:
        """How many options the text puts to the buyer: remedy ids whose cues cover the same
        words are one option ("补发" is the cue of both 补发缺的 and 补发新的: one offer)."""
        spans = {rid: [m.span() for m in pat.finditer(norm_text)] for rid, pat in self._remedies.items()}
        groups: list[list[tuple[int, int]]] = []
        for found in (v for v in spans.values() if v):
            joined = [g for g in groups if any(a < d and c < b for a, b in found for c, d in g)]
            merged = [*found, *(s for g in joined for s in g)]
            groups = [g for g in groups if g not in joined] + [merged]
        return len(groups)

    def read(
        self, *, turn: int, text: str, norm_text: str, before: Conversation, after: Conversation,
        sug: Suggestion, buyer_before: str | None, buyer: BuyerRef | None = None,
        given: Sequence[str] = (), unaccepted: Collection[str] = (),
    ) -> TurnFacts:
        """The facts of one trainee reply, from the engine's answer to it; ``given``: facts the
        session already knows (the buyer has refused the review), which the rules may build on;
        ``unaccepted``: acts read as a maybe that the flow did not take (see ``accepted.py``)."""
        u = sug.understanding
        assert isinstance(u, AgentUnderstanding)
        acts = [a for a in u.acts if a not in unaccepted]
        findings = list(u.findings)
        # Suggestion.warnings = guard findings, then policy notes on the turn, then standing
        # notes of the stage; the standing ones are info and describe the stage, not the reply.
        notes = [w for w in sug.warnings[len(findings):] if w.severity != "info"]
        mentioned = self.remedies(norm_text) if "offer_remedy" in acts else []
        facts = TurnFacts(
            turn=turn, text=text, stage=before.stage, stage_after=after.stage, acts=acts,
            findings=findings, notes=notes,
            facts=[*(name_facts(norm_text, buyer) if buyer else []), *given],
            remedies=mentioned,
            context=after.context.model_dump(), buyer_before=buyer_before,
        )
        for name, rule in self.rules.items():
            pat = self._text.get(name)
            if pat is not None and not pat.search(norm_text):
                continue
            if rule.min_remedies is not None and (
                    len(mentioned) < rule.min_remedies or self.options(norm_text) < rule.min_remedies):
                continue
            if facts.holds(rule.when):
                facts.facts.append(name)  # later rules may build on earlier facts
        return facts
