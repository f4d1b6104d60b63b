"""The shape of every YAML file in dialogs/, checked when the file loads.

Each model forbids unknown keys (a misspelt optional key is an error, not its default
silently) and names what a file must hold. The loaders keep handing on the plain dicts
they always read (bot/dataload.py validates them against these models first), so the code
that reads the data does not change. ``references`` adds what one key alone cannot tell:
a stage, remedy or cue named somewhere must exist. Personas and rubric.yaml have their own
models in bot/training/.

Keys typed ``Any`` belong to parts of the flow whose shape is still settling (the script's
evidence thresholds, notes and hints; the guard's ties and rewrites): they are known keys,
so a misspelt top-level key is still caught, and their readers check their contents.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Severity = Literal["block", "warn", "info"]
Path = tuple[str | int, ...]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)  # built when first used


# -- lexicons and the guard ----------------------------------------------------------


class Rule(_Strict):
    """One rule of a lexicon (bot/understand/rules.py explains the keys)."""

    any: list[str] | None = None
    all: list[str] | None = None
    none: list[str] | None = None
    weight: float = 1.0
    max_len: int | None = None
    negatable: bool = True
    once: bool = False


class ScopedRule(Rule):
    """A rule of the agent lexicon or the guard, which may carry exceptions (scoped.py)."""

    unless: list[str] | dict[Literal["sentence", "clause", "answer", "text"], list[str]] | None = None
    unless_scope: Literal["sentence", "clause", "answer", "text"] = "sentence"
    context: list[str] | None = None


class SureRule(Rule):
    """A marker the labelling convention decides by (buyer.yaml ``sure``): the reading is at
    least this intent (in ``priority``) and this emotion, whatever the model says."""

    intent: str | None = None
    emotion: Literal["calm", "upset", "angry"] | None = None
    # the marker names the intent outright, also one ranked below the read one ("好的好的 谢谢亲"
    # read as a goodbye is an acknowledgement): for whole-message shapes only
    outright: bool = False
    # the cause the convention names for what the marker says ("等了半个月 问客服就说在路上": the parcel
    # that did not come is logistics, the brush-off secondary), set in a message that complains
    cause: str | None = None


class BuyerLexicon(_Strict):
    """dialogs/lexicon/buyer.yaml"""

    cues: dict[str, list[str]] = {}
    negators: list[str] = []
    negation_window: int | None = None
    emphasis: list[str] = []
    emphasis_factor: float = 1.5
    intents: dict[str, list[Rule]]
    causes: dict[str, list[Rule]]
    emotions: dict[Literal["calm", "upset", "angry"], list[Rule]]
    priority: list[str]
    cause_priority: list[str] = []
    causeless_intents: list[str] = []
    cause_intents: list[str] | None = None
    cause_min: float = 0.0
    cause_complains: float = 0.0
    angry_at: float = 2.0
    upset_at: float = 1.0
    intent_heat: dict[str, float] = {}
    cause_heat: dict[str, float] = {}
    cause_heat_scale: dict[str, float] = {}
    upset_cap: float | None = None
    emotion_cap: dict[str, Literal["calm", "upset", "angry"]] = {}
    sure: list[SureRule] = []


class AgentLexicon(_Strict):
    """dialogs/lexicon/agent.yaml"""

    cues: dict[str, list[str]] = {}
    negators: list[str] = []
    fillers: list[str] = []
    acts: dict[str, list[ScopedRule]]
    threshold: float = 1.0


class GuardCode(_Strict):
    severity: Severity
    message: str = Field(min_length=1)
    rules: list[ScopedRule]
    # the span shown prefers a hit this regex finds in (blame: the part that names the buyer)
    focus: str | None = None
    # codes whose finding on the same message says it all: this one is then left out
    covered_by: list[str] = []
    off_platform_message: str | None = None


class PublicName(_Strict):
    """The buyer's full name in a public text (the shop's reply under a review)."""

    code: str = "privacy"
    severity: Severity = "block"
    message: str = Field(min_length=1)
    # forms of address after the name: the rewrite keeps the surname before them (王女士)
    titles: list[str] = []


class GuardFile(_Strict):
    """dialogs/guard.yaml"""

    cues: dict[str, list[str]] = {}
    negators: list[str] = []
    fillers: list[str] = []
    coordinators: list[str] = []  # 或者, 以及…: a negator covers the things they join
    codes: dict[str, GuardCode]
    ties: Any = None
    rewrites: Any = None
    second_opinion: Any = None
    model: Any = None
    public_name: PublicName | None = None


class Placeholders(_Strict):
    """Template placeholders of shop scripts and the token each kind reads as."""

    pattern: str  # a bracketed placeholder; group 1 is the word inside
    bare: str | None = None  # XX / *** typed in place of a name (letters must be capitals)
    bare_token: str = ""
    words: dict[str, list[str]]  # token -> the placeholder words read as it


class NormalizeFile(_Strict):
    """dialogs/normalize.yaml"""

    separators: str = ""
    spelled: str = ""
    joined: list[str] = []
    symbols: dict[str, str] = {}
    emoticons: dict[str, str] = {}
    emoticon_codes: str | None = None
    aliases: dict[str, str] = {}
    particles: dict[str, str] = {}
    takes_particles: list[str] = []
    replace: list[tuple[str, str]] = []
    protect: list[str] = []
    placeholders: Placeholders | None = None
    notes: str | None = None
    template_marks: str | None = None  # what a note or placeholder needs: the fast path skips the rest


# -- policy, remedies, words ---------------------------------------------------------


class Note(_Strict):
    severity: Severity
    message: str = Field(min_length=1)


class PolicyFile(_Strict):
    """dialogs/policy.yaml"""

    notes: dict[str, Note]
    callback_time: str
    # once here, naive local hours; now the settings' quiet_hours in the shop's time zone
    # (bot/quiet.py), so that the guard and the queue cannot disagree
    quiet_hours: Any = None

    @field_validator("quiet_hours")
    @classmethod
    def _moved(cls, value: Any) -> Any:
        raise ValueError("免打扰时段不再写在 policy.yaml 里：请删掉这一项，在设置里写 quiet_hours"
                         "（如 quiet_hours = \"21:00-08:00\"，按 shop_timezone 的时区算）")


class SizedRemedy(_Strict):
    """A remedy's words once the buyer named the size ({{ size }})."""

    text: str = Field(min_length=1)
    short: str = Field(min_length=1)
    next: str = Field(min_length=1)


class NoGoodsRemedy(_Strict):
    """A remedy's words for a buyer who never received the goods ("东西不用寄回" is then no news)."""

    text: str | None = Field(default=None, min_length=1)
    short: str | None = Field(default=None, min_length=1)
    next: str | None = Field(default=None, min_length=1)
    shipping: str | None = Field(default=None, min_length=1)


class Remedy(_Strict):
    label: str = Field(min_length=1)
    text: str = Field(min_length=1)
    short: str = Field(min_length=1)
    next: str | None = Field(default=None, min_length=1)  # the next step once agreed (else phrases.remedy_next)
    again: str | None = Field(default=None, min_length=1)  # why the new one won't have the same problem
    shipping: str | None = Field(default=None, min_length=1)  # who pays the postage, 运费险 or not
    choose: list[str] = []
    intents: list[str] = []
    # asked for on a cause whose options lack it, the cause's option that meets the request
    # (a refund on a quality case: 退货退款), unless the buyer's words hold to it (`firm` cues)
    instead: str | None = None
    firm: list[str] = []
    # where the agent's latest offer listed one of these and not this one, a request for this one
    # said in general words takes it ("退钱吧" to "按个数退钱": the partial refund), unless the
    # words say the whole of it (`whole` cues: "全额")
    as_listed: list[str] = []
    whole: list[str] = []
    # the size a buyer's request names ("换个L码"), and the remedy's words with it
    size: str | None = None
    sized: SizedRemedy | None = None
    # the sum an offer or a choice of it names ("退您30元", "退30吧"; group 1 or 2: the number), and
    # the remedy's words with it ({{ amount }})
    amount: str | None = None
    with_amount: SizedRemedy | None = None
    # the most in yuan the agent agrees outright when the buyer names a sum for it ("退我100块"): such a
    # sum is the buyer's choice; one over it gets the most said back (suggestion key amount-over)
    up_to: float | None = Field(default=None, gt=0)
    # a regular expression on the product (the case's, else the one the talk names): the option is
    # granted on such products whatever the cause (a full refund with nothing sent back on goods not
    # worth the postage back: litter, fruit, food)
    for_products: str | None = None
    # the option presumes the buyer has the goods (keep them, send them back): not offered while
    # the buyer says nothing arrived (script.yaml cue not_received); `no_goods`: its words then
    needs_goods: bool = False
    no_goods: NoGoodsRemedy | None = None
    # only for that buyer (the courier chased for a parcel still on its way)
    no_goods_only: bool = False
    # fixes nothing until the buyer has the goods: no review request until they say so
    until_received: bool = False
    # pays money back: left out once the buyer says the platform refunded (script.yaml cue refunded)
    refund: bool = False
    # the buyer keeps using the goods: left out once the buyer reports a danger (script.yaml cue safety)
    keeps_in_use: bool = False
    # a gift, not a fix (the apology gift): the message that asks for the review does not name it
    # (a gift beside a review request is tied whatever disclaimer follows: guard.yaml ties.gift)
    gift: bool = False


class RemediesFile(_Strict):
    """dialogs/remedies.yaml"""

    remedies: dict[str, Remedy]
    by_cause: dict[str, list[str]]
    # words right after an option's cue that refuse it ("退钱吧新的我也不敢用了": not the exchange)
    refused_after: str = "(?!)"
    # the causes where a buyer's "没收到" means the parcel never came (script.yaml cue not_received):
    # only there are the options that need the goods left out ("质量太差…赠品也没收到" has the goods)
    no_goods_causes: list[str] = ["logistics"]
    # the options of a cause whose every option pays money back, once the money came back already
    after_refund: list[str] = []
    # the options a reported danger (script.yaml cue safety) offers whatever the cause (the goods taken back)
    hazard: list[str] = []


# The phrases the engine builds from case fields, with the placeholders each may use.
PHRASES: dict[str, tuple[str, ...]] = {
    "order_date": ("month", "day"), "me": ("agent",), "callback_time": (), "damaged_thing": (),
    "damage_options": ("thing",), "damage_remedy": ("thing",), "remedy_next": (),
    "these_two": (), "these_three": (), "these_many": (), "them": (), "review_path": (),
}


class Phrases(_Strict):
    """defaults.yaml `phrases` (a key a shop's copy lacks comes from the bundled file)."""

    order_date: str | None = None
    me: str | None = None
    callback_time: str | None = None
    damaged_thing: str | None = None
    damage_options: str | None = None
    damage_remedy: str | None = None
    remedy_next: str | None = None
    these_two: str | None = None  # {{ these }} of two options ("这两种")
    these_three: str | None = None
    these_many: str | None = None
    them: str | None = None  # {{ them }}: the buyer, to a relative who took the call, when unnamed
    review_path: str | None = None  # {{ review_path }}: where in the app a review is changed


class DefaultsFile(_Strict):
    """dialogs/defaults.yaml: default case words and the Chinese name of every label. A
    shop's copy made before a name mapping was added may lack it: the bundled one fills in
    (bot/insights/labels.py); `csbot check` reports a label named in neither."""

    defaults: dict[str, str]
    phrases: Phrases | None = None
    cause_labels: dict[str, str]  # the engine's words for a cause inside a sentence
    # one short reason per cause, said first to a "why" at the options ({{ why }})
    cause_why: dict[str, str] = {}
    cause_names: dict[str, str] = {}
    outcome_labels: dict[str, str] = {}
    finding_labels: dict[str, str] = {}
    severity_labels: dict[str, str] = {}
    intent_labels: dict[str, str] = {}
    emotion_labels: dict[str, str] = {}
    act_labels: dict[str, str] = {}


# -- the script ----------------------------------------------------------------------


class ChecklistItem(_Strict):
    item: str = Field(min_length=1)
    check: str | bool | int


class Stage(_Strict):
    id: str = Field(min_length=1)
    label: str = Field(min_length=1)
    main: bool = False
    # What the code does at this stage (ROLES): Python reads roles, never stage ids, so a
    # shop may rename or add stages.
    roles: list[str] = []
    checklist: list[ChecklistItem] = []


class RoleSpec(BaseModel):
    """One stage role: what it makes the code do (Chinese), and how many stages carry it."""

    model_config = ConfigDict(frozen=True)
    meaning: str
    unique: bool = False  # at most one stage
    required: bool = False  # at least one stage


# The stage roles the code reads (docs/customising.md shows this table in Chinese).
ROLES: dict[str, RoleSpec] = {
    "identifies_buyer": RoleSpec(meaning="确认买家身份：离开这个阶段就算身份已确认", unique=True),
    "confirms_product": RoleSpec(meaning="确认商品：走到这个阶段就算身份已确认", unique=True),
    "before_remedy": RoleSpec(meaning="补救之前：买家在这里抱怨就算说明了问题；在这里请求评价会提醒“太早”"),
    "hears_problem": RoleSpec(
        meaning="倾听问题：挂起的案子没有来处时回到这里；主线上在它之后的阶段都算买家已说明问题",
        unique=True, required=True),
    "handles_problem": RoleSpec(meaning="处理问题：买家别的东西也受了损失时，提醒把它一起赔上"),
    "shows_remedies": RoleSpec(meaning="列出补救方案：建议里附上适合这个原因的方案"),
    "offers_remedy": RoleSpec(
        meaning="提出补救：从这里走到请求评价或结束阶段时记下买家选的方案；方案选定前请求评价会提醒“太早”",
        unique=True, required=True),
    "asks_review": RoleSpec(
        meaning="礼貌请求评价：方案办理前先建议安排方案；只请求一次；记下买家的回答", unique=True),
    "closes": RoleSpec(meaning="致谢结束：按结局（找错人、都拒绝、已答复、不能改评）选结束语，需要时附公开解释",
                       unique=True, required=True),
    "contacts_buyer": RoleSpec(meaning="主动联系买家：在免打扰时段发消息会提醒"),
    "schedules_callback": RoleSpec(meaning="约定回访：记下约好的时间，买家有空或接着谈时回到原来的阶段",
                                   unique=True),
    "suspects_extortion": RoleSpec(
        meaning="疑似恶意：不答应任何交换，保留证据；不能请求评价；附公开解释", unique=True),
    "hands_over": RoleSpec(meaning="升级处理：由主管接手，提醒告诉买家谁来跟进", unique=True),
}


class Transition(_Strict):
    trigger: str
    source: str | list[str]
    dest: str
    conditions: list[str] = []
    unless: list[str] = []


class Events(_Strict):
    buyer: dict[str, list[str]]
    agent: dict[str, list[str]]
    # the events a message's secondary intents fire, in text order (several intents a message)
    secondary: dict[str, list[str]] = {}
    # a message that fires the key event does not fire these ("不用换了，退款吧" chooses)
    outranks: dict[str, list[str]] = {}
    # the events a complaint that states no problem fires instead ("是我，干嘛": vent, not problem)
    vague: dict[str, str] = {}
    # where the options are shown, a reply that picks one though its intents move nothing
    picks: list[str] = []
    # where the options are shown, the events a choice not said outright does not fire (a
    # question about an option, a choice under a condition: "明天再不到就退钱")
    tentative: list[str] = []
    # cues (script.yaml `cues`) that fire events of their own, before the intents' ("我点错了": recall)
    cues: dict[str, list[str]] = {}
    # cues whose events follow the intents', in the order the buyer said them ("是的，那个花瓶我
    # 收到了": the yes says who first, then the clause recalls the order)
    cues_after: dict[str, list[str]] = {}


class ScriptFile(_Strict):
    """dialogs/script.yaml"""

    version: str | int | float
    initial: str
    final: str
    max_attempts: int = Field(3, ge=1)
    holding: list[str] = []
    stages: list[Stage] = Field(min_length=1)
    events: Events
    active: list[str]
    transitions: list[Transition]
    renamed: dict[str, str] | None = None
    # Flow keys still settling (see the module's docstring).
    evidence: Any = None
    evidence_cues: Any = None
    weak_evidence_cues: Any = None
    firm_extort: Any = None
    talk_causes: Any = None
    sorry_names: Any = None
    told_by: Any = None
    weak_primary: Any = None
    unsure_busy: Any = None
    sure_complaint_clause: Any = None
    review_cause: Any = None
    act_evidence: Any = None
    farewell: Any = None
    ordinary: Any = None
    maybe: Any = None
    escalation_owner: Any = None
    cues: Any = None
    next_step: Any = None
    event_labels: Any = None
    notes: Any = None


class ProductRow(_Strict):
    match: str
    unit: str
    use: str


class ProductWords(_Strict):
    unit: str
    use: str


class ProductTable(_Strict):
    """products.yaml: the measure word and verb of a product (bot/script/flow.py)."""

    products: list[ProductRow]
    default: ProductWords
    not_product: str | None = None  # words of the talk that name no product (the box, the courier)


MODELS: dict[str, type[BaseModel]] = {
    "script.yaml": ScriptFile,
    "lexicon/buyer.yaml": BuyerLexicon,
    "lexicon/agent.yaml": AgentLexicon,
    "guard.yaml": GuardFile,
    "policy.yaml": PolicyFile,
    "remedies.yaml": RemediesFile,
    "defaults.yaml": DefaultsFile,
    "normalize.yaml": NormalizeFile,
    "products.yaml": ProductTable,
}

# Stage names a transition may use besides the stages: the machine's own placeholders.
_PLACEHOLDERS = frozenset({"@active", "@open", "@previous"})


def references(name: str, model: BaseModel) -> Iterator[tuple[Path, str]]:
    """Names used in a file that the file itself should define: (key path, Chinese message)."""
    if isinstance(model, ScriptFile):
        yield from _script_references(model)
    elif isinstance(model, RemediesFile):
        for rid, remedy in model.remedies.items():
            if not remedy.choose:  # a buyer's "补发一个吧" would name a built-in option instead
                yield ("remedies", rid), (f"方案“{rid}”没有写 choose（买家点名要它的说法，"
                                          "如 [\"补发\", \"重新包装\"]）：没有它，买家选这个方案时认不出来，"
                                          "会记成别的方案")
        for cause, ids in model.by_cause.items():
            for i, rid in enumerate(ids):
                if rid not in model.remedies:
                    yield ("by_cause", cause, i), f"没有这个补救方案：{rid}（remedies 里没有定义）"
        for i, rid in enumerate(model.after_refund):
            if rid not in model.remedies:
                yield ("after_refund", i), f"没有这个补救方案：{rid}（remedies 里没有定义）"
        for i, rid in enumerate(model.hazard):
            if rid not in model.remedies:
                yield ("hazard", i), f"没有这个补救方案：{rid}（remedies 里没有定义）"
        for i, cause in enumerate(model.no_goods_causes):
            if cause not in model.by_cause:
                yield ("no_goods_causes", i), f"by_cause 里没有这个原因：{cause}"
    elif isinstance(model, DefaultsFile) and model.phrases is not None:
        for key, allowed in PHRASES.items():
            text = getattr(model.phrases, key)
            try:
                (text or "").format(**dict.fromkeys(allowed, "…"))
            except (KeyError, IndexError, ValueError):
                shown = "、".join("{" + a + "}" for a in allowed) or "无"
                yield ("phrases", key), f"占位符不对：“{text}”（这里能用的占位符：{shown}）"
    elif isinstance(model, BuyerLexicon | AgentLexicon | GuardFile):
        yield from _cue_references(model)
        if isinstance(model, GuardFile):
            for code, body in model.codes.items():
                for i, other in enumerate(body.covered_by):
                    if other not in model.codes or other == code:
                        yield ("codes", code, "covered_by", i), f"covered_by 里的 {other} 不是另一个合规问题代码"


def role_problems(stages: Sequence[tuple[str, Sequence[str]]]) -> Iterator[tuple[Path, str]]:
    """Unknown roles, a unique role on two stages, a required role on none. A script whose
    stages carry no roles at all predates them: the engine takes the bundled script's roles
    by stage id (bot/script/machine.py, ``inherit_roles``), so only unknown names count."""
    where: dict[str, str] = {}
    for i, (sid, roles) in enumerate(stages):
        for j, role in enumerate(roles):
            spec = ROLES.get(role)
            if spec is None:
                yield ("stages", i, "roles", j), f"不认识这个角色：{role}（可用的角色：{'、'.join(ROLES)}）"
            elif spec.unique and role in where and where[role] != sid:
                yield ("stages", i, "roles", j), f"角色 {role} 只能标在一个阶段上，已经标在“{where[role]}”上"
            else:
                where.setdefault(role, sid)
    if not where:
        return
    for role, spec in ROLES.items():
        if spec.required and role not in where:
            yield ("stages",), f"没有阶段标着角色 {role}（{spec.meaning}）：在对应阶段的 roles 里加上它"


def _script_references(s: ScriptFile) -> Iterator[tuple[Path, str]]:
    yield from role_problems([(st.id, st.roles) for st in s.stages])
    ids = [st.id for st in s.stages]
    known = set(ids)
    seen: set[str] = set()
    for i, sid in enumerate(ids):
        if sid in seen:
            yield ("stages", i, "id"), f"阶段 id 重复：{sid}"
        seen.add(sid)
    for key in ("initial", "final"):
        value = getattr(s, key)
        if value not in known:
            yield (key,), f"没有这个阶段：{value}"
    for key in ("holding", "active"):
        for i, sid in enumerate(getattr(s, key)):
            if sid not in known:
                yield (key, i), f"没有这个阶段：{sid}"
    for i, t in enumerate(s.transitions):
        sources = [t.source] if isinstance(t.source, str) else t.source
        for j, src in enumerate(sources):
            if src not in known and src not in _PLACEHOLDERS:
                where: Path = ("transitions", i, "source") if isinstance(t.source, str) \
                    else ("transitions", i, "source", j)
                yield where, f"没有这个阶段：{src}"
        if t.dest not in known and t.dest not in _PLACEHOLDERS:
            yield ("transitions", i, "dest"), f"没有这个阶段：{t.dest}"
    yield from _unreachable(s)


def _unreachable(s: ScriptFile) -> Iterator[tuple[Path, str]]:
    """Stages no chain of transitions leads to from the initial stage."""
    stages = [st.id for st in s.stages]
    edges: dict[str, set[str]] = {}
    for t in s.transitions:
        sources: list[str] = []
        for src in [t.source] if isinstance(t.source, str) else t.source:
            if src == "@active":
                sources += s.active
            elif src == "@open":
                sources += [x for x in stages if x != s.final]
            else:
                sources.append(src)
        if t.dest != "@previous":  # back to a stage already reached
            for src in sources:
                edges.setdefault(src, set()).add(t.dest)
    seen = {s.initial}
    todo = [s.initial]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    for i, sid in enumerate(stages):
        if sid not in seen:
            yield ("stages", i, "id"), f"阶段“{sid}”从开始阶段“{s.initial}”走不到（没有转移通向它）"


def _cue_references(spec: BuyerLexicon | AgentLexicon | GuardFile) -> Iterator[tuple[Path, str]]:
    import re

    cue = re.compile(r"%([a-z_]+)%")
    families: list[tuple[Path, dict[str, list[Any]]]] = []
    if isinstance(spec, BuyerLexicon):
        families = [(("intents",), spec.intents), (("causes",), spec.causes),
                    (("emotions",), {str(k): v for k, v in spec.emotions.items()}), (("sure",), {"": spec.sure})]
    elif isinstance(spec, AgentLexicon):
        families = [(("acts",), spec.acts)]
    else:
        families = [(("codes", code, "rules"), {"": body.rules}) for code, body in spec.codes.items()]
    for name, patterns in spec.cues.items():
        for i, p in enumerate(patterns):
            for m in cue.finditer(p):
                if m.group(1) not in spec.cues:
                    yield ("cues", name, i), f"没有这个词表（cue）：%{m.group(1)}%"
    for base, family in families:
        for label, rules in family.items():
            for i, rule in enumerate(rules):
                where = (*base, *((label,) if label else ()), i)
                for key in ("any", "all", "none", "context"):
                    for j, p in enumerate(getattr(rule, key, None) or []):
                        for m in cue.finditer(p):
                            if m.group(1) not in spec.cues:
                                yield (*where, key, j), f"没有这个词表（cue）：%{m.group(1)}%"
