"""The simulated buyer: an agenda stack, a mood and a patience counter (no language model).

After each trainee reply the buyer
1. moves its mood by the persona's softeners and hardeners found in the reply's signals
   (capped per turn); the mood band picks the phrasing;
2. stops on a *reaction* (blame, a benefit for the review, pressure...) if one applies;
3. otherwise pops the agenda items the reply meets (optional items above a met item are
   dropped) and answers with the last one's reply; if nothing is met it presses the
   top item and loses patience. At zero patience, or at the turn limit, it leaves.
This follows the agenda-based user simulators of dialogue research (Schatzmann et al.
2007; ConvLab's agenda policy) with Plato's patience counter.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from bot.training.chance import pick
from bot.training.facts import TurnFacts
from bot.training.grader import case_words
from bot.training.persona import AgendaItem, Band, Persona, Utterance, Variant

MOOD_MIN, MOOD_MAX = -4, 4
START_MOOD: dict[str, int] = {"angry": -3, "upset": -1, "calm": 1}
# Signals of a kind word the buyer answers even when it is off their agenda.
_KIND = frozenset({"empathize", "cares"})

# Purposes whose line is the buyer asking for what they wait for: said again in other words.
_ASKING = ("press:", "reject:")
# A point made again in another mood's words, the sharper one first.
_AGAIN: dict[str, tuple[str, ...]] = {"calm": ("upset", "angry"), "upset": ("angry", "calm"),
                                      "angry": ("upset", "calm")}

Event = Literal["met", "press", "reject", "reaction", "leave"]
# text -> (intent, cause) as the engine reads it
Reader = Callable[[str], tuple[str, str | None]]


def band_of(mood: int) -> Band:
    """The mood band of a mood value: angry ≤ -2 < upset ≤ 0 < calm."""
    if mood <= -2:
        return "angry"
    return "upset" if mood <= 0 else "calm"


@dataclass(frozen=True, slots=True)
class BuyerReply:
    """What the buyer says after one trainee reply, and why."""

    text: str
    intent: str
    event: Event
    item: str | None
    mood: int
    band: Band
    patience: int
    leaves: bool
    ending: str | None
    # The reply met nothing the buyer waits for: they ask again (or give up) and lose patience.
    pressed: bool = False
    # The trainee ended the chat while the buyer still waited for this agenda item.
    waiting: str | None = None
    # The buyer answered this agenda item but still waits for it ("是我，你哪位？" to a curt
    # "赵建国吗？"): what the buyer asked back is the next step, as when they press for it.
    stays: str | None = None


class SimulatedBuyer:
    """One persona's buyer for one session; deterministic given the seed and the replies."""

    def __init__(self, persona: Persona, seed: int, *, review_allowed: bool, read: Reader) -> None:
        self.persona = persona
        self.seed = seed
        self._read = read
        self._fits_cache: dict[tuple[str, str, tuple[str, ...], str | None], bool] = {}
        # A review item is dropped up front where the review cannot change (Tmall, >30 days).
        self.agenda: list[AgendaItem] = [
            i for i in persona.agenda if i.kind != "review" or review_allowed
        ]
        self.mood = START_MOOD[persona.emotion]
        self.patience = persona.patience
        self.used: dict[str, int] = {}
        self.credited: list[str] = []  # items a reply met while the buyer answered another
        self._from_credit: set[str] = set()  # items popped this turn on an earlier reply's credit
        # Items a reaction's reply made known (the blame told the buyer what the call is about):
        # no longer asked for, and their line ("嗯，发错货了") was in effect said with the reaction.
        self._known: set[str] = set()
        self._silent: set[str] = set()  # such items popped this turn without being answered
        self._stayed: set[str] = set()  # items answered once with a `stays` variant
        # Items pressed with the variant asking for what was missing ("是我，你哪位？" to a curt
        # "赵建国吗？"), by id: the signals the buyer asked for (introduce)
        self._asked: dict[str, set[str]] = {}
        # Items answered with a `stays` variant, by id: what that answer asked for (the signals the
        # variant found missing: introduce to "是我，你哪位？"); a reply saying all of it answers the
        # item, however else it goes on ("我是暖厨电器的客服小周，您买的水壶还记得吗？")
        self._awaits: dict[str, set[str]] = {}
        # What the trainee's earlier replies said (their signals): a variant answering what a
        # message lacks ("是我，你是哪位？" to no introduction) reads the whole conversation, not
        # only the message, so the buyer does not ask who is calling after being told.
        self.heard: set[str] = set()
        self._earlier: set[str] = set()
        self.answered: list[AgendaItem] = []  # items popped so far, oldest first
        self.chosen: str | None = None
        # The options of a clean offer made while the buyer still waited for something before
        # it (the offer came before the explanation): once that is answered, the buyer picks
        # from them instead of asking "那现在怎么处理？" as if nothing had been put to them.
        self._offered: list[str] = []
        self.review_answer: str | None = None
        self.left = False
        self.last_line: str | None = None
        self.said: set[str] = set()  # every line said so far (membership only: never iterated)
        # {call} in the common lines ("我是{call}"): this case's words, as the tips use them
        self.words = case_words(persona.case)

    @property
    def band(self) -> Band:
        """The current mood band."""
        return band_of(self.mood)

    # -- one turn ----------------------------------------------------------------------

    def respond(self, f: TurnFacts, *, last_turn: bool, closed: bool) -> BuyerReply:
        """The buyer's answer to trainee reply ``f``.

        ``last_turn``: the turn limit is reached; ``closed``: the trainee's reply ended the chat.
        """
        if self.left:
            raise RuntimeError("the buyer has already left")
        self._earlier = set(self.heard)
        self.heard.update(f.signals)
        self._answered_question(f)
        self._move_mood(f.signals)
        turn = f.turn
        for idx, r in enumerate(self.persona.reactions):
            if any(s in f.signals for s in r.when) and (not r.stage_in or f.stage in r.stage_in):
                self.patience = max(0, self.patience - r.patience)
                if r.leave:
                    return self._leave(r.say, turn, "reaction", None, r.ending or "buyer_left",
                                       f"reaction{idx}")
                if self.patience == 0:
                    return self._give_up(turn, "buyer_gave_up")
                if closed:
                    return self._goodbye(turn)
                # What else the reply did is remembered: a buyer who answered the blame for the
                # problem knows what the call is about, and does not ask "什么事啊？" next turn.
                before = set(self.credited)
                self._credit(f)
                self._known |= set(self.credited) - before
                # what the reaction's line already answered is done, not remembered for later
                done = [i.id for i in self.agenda if i.id in r.answers and self._met(i, f)]
                self.agenda = [i for i in self.agenda if i.id not in done]
                self.credited = [c for c in self.credited if c not in done]
                return self._reply(r.say, turn, "reaction", None, f"reaction{idx}")
        popped, rejected = self._pop(f)
        if rejected is not None or self.chosen is not None:
            self._offered = []
        elif f.remedies and "conditional_benefit" not in f.signals \
                and any(i.kind == "remedy" for i in self.agenda):
            self._offered = list(f.remedies)
        # what a reaction made known pops without a word ("嗯，发错货了" is no answer to an offer
        # made after the blame); if that is all this reply met, the buyer asks for what is next
        popped = [i for i in popped if i.id not in self._silent]
        if closed:
            if popped and popped[-1].leave:
                return self._leave(self._utterance(popped[-1], f), turn, "met", popped[-1].id,
                                   "closed", f"item:{popped[-1].id}")
            return self._goodbye(turn)
        if last_turn and not (popped and popped[-1].leave):
            return self._give_up(turn, "turn_limit")
        if rejected is not None:
            if not popped:
                self.patience -= 1
                if self.patience <= 0:
                    return self._give_up(turn, "buyer_gave_up")
            reject = self.persona.goal.reject or rejected.press
            assert reject is not None  # validated: required items have `press`
            return self._reply(reject, turn, "reject", rejected.id, f"reject:{rejected.id}")
        if popped:
            last = popped[-1]
            utt = self._utterance(last, f)
            stays = self._stays(last, f)
            if stays:
                self.agenda.insert(0, last)  # answered, but the buyer still waits for it
                self._stayed.add(last.id)
                v = self._variant(last, f)
                if v is not None:
                    self._awaits[last.id] = set(v.when.none) - self._earlier - set(f.signals)
            if last.leave:
                return self._leave(utt, turn, "met", last.id, "buyer_left", f"item:{last.id}")
            reply = self._reply(utt, turn, "met", last.id, f"item:{last.id}")
            return self._aside(replace(reply, stays=last.id) if stays else reply, f)
        top = next((i for i in self.agenda if self._required(i)), self.agenda[0]) if self.agenda else None
        care = self.persona.on_care
        if care is not None and top is not None and any(s in _KIND for s in f.signals):
            # Off the agenda but kind (asked after someone's health, understanding): the buyer
            # answers that and keeps their patience.
            return self._reply(care, turn, "met", None, "care")
        # Carrying out the fix the buyer chose ("新壶明天上午就发顺丰") is a step taken: the buyer
        # asks what comes next but keeps their patience.
        if not (self.chosen is not None and "offer_remedy" in f.signals and top is not None):
            self.patience -= 1
        if self.patience <= 0 or top is None:
            # what the buyer gave up waiting for is said (the tip names that step)
            return replace(self._give_up(turn, "buyer_gave_up"), pressed=True,
                           item=top.id if top is not None else None)
        press, asked = self._press(top, f)
        # (the item asked for: the press can be the next item's, when this one is already done)
        return replace(self._reply(press, turn, "press", asked, f"press:{top.id}"), pressed=True)

    # -- the agenda ------------------------------------------------------------------------

    def _required(self, item: AgendaItem) -> bool:
        """Whether the buyer waits for ``item`` (an `after_review` item once that answer is given)."""
        if item.optional:
            return False
        return item.after_review is None or item.after_review == self.review_answer

    def waiting(self) -> AgendaItem | None:
        """What the buyer still waits for besides the goodbye (a question left unanswered)."""
        return next((i for i in self.agenda if self._required(i) and not i.leave
                     and i.id not in self.credited), None)

    def _met(self, item: AgendaItem, f: TurnFacts) -> bool:
        if item.kind == "remedy" and not (f.remedies or "asks_choice" in f.signals):
            # No remedy named and no question what the buyer wants: an action taken in general
            # ("已经把这批货下架返厂检查了") is no offer, and an unmade offer is never accepted;
            # an offer made earlier, while the buyer asked for something else, still stands.
            return bool(self._offered)
        if item.id in self._stayed and self._stays(item, f):
            # The buyer has asked once ("在吗？" -> "你是哪位？"); another "在吗在吗？" answers
            # nothing: it is pressed like any reply that misses the point.
            return False
        return item.id in self.credited or f.holds(item.needs)

    def _first_met(self, f: TurnFacts, first_pop: bool) -> int | None:
        for idx, item in enumerate(self.agenda):
            # An item that needs nothing answers whatever the trainee said, so it only pops
            # as the first item of a turn (it is a reply to the message, not a condition).
            if item.needs.is_empty() and not first_pop:
                return None
            if self._met(item, f):
                return idx
            if self._required(item):
                return None
        return None

    def _pop(self, f: TurnFacts) -> tuple[list[AgendaItem], AgendaItem | None]:
        """Pop what the reply meets; the second value is a remedy item whose offer is rejected."""
        popped: list[AgendaItem] = []
        self._from_credit = set()
        self._silent = set()
        while self.agenda:
            idx = self._first_met(f, all(i.id in self._silent for i in popped))
            if idx is None:
                break
            item = self.agenda[idx]
            if item.kind == "remedy":
                choice = self._choose(f.remedies or self._offered)
                if choice is None:
                    del self.agenda[:idx]  # skipped optional items stay skipped
                    return popped, item
                self.chosen = choice
            popped.extend(self.agenda[: idx + 1])
            self.answered.extend(self.agenda[: idx + 1])
            del self.agenda[: idx + 1]
            if item.id in self.credited:
                self.credited.remove(item.id)
                self._from_credit.add(item.id)
                if item.id in self._known:
                    self._silent.update(i.id for i in popped[len(popped) - idx - 1:])
            if item.kind == "review":
                self.review_answer = self._review_answer()
                # what the buyer would wait for after the other answer is no longer to come
                self.agenda = [i for i in self.agenda
                               if i.after_review in (None, self.review_answer)]
            if item.id in self._silent:
                continue  # not answered now: the reply may meet what comes next
            if item.kind != "say" or item.leave or not self._required(item):
                # The buyer answers this one first (a question to answer, a choice to make);
                # what else the reply already did is remembered for the next turn.
                self._credit(f)
                break
        return popped, None

    def _credit(self, f: TurnFacts) -> None:
        for item in self.agenda:
            if item.kind == "say" and not item.needs.is_empty() and f.holds(item.needs) \
                    and item.id not in self.credited:
                self.credited.append(item.id)

    def _choose(self, mentioned: list[str]) -> str | None:
        """Which remedy the buyer takes from those the reply names (None: none acceptable)."""
        goal = self.persona.goal
        accepts = list(goal.accepts)
        if not mentioned:
            return goal.wants or accepts[0]  # "您看想怎么处理？": the buyer says what they want
        if goal.wants is not None and goal.wants in mentioned:
            return goal.wants
        return next((r for r in accepts if r in mentioned), None)

    def _review_answer(self) -> str:
        goal = self.persona.goal
        return "agree" if goal.review == "agree" and self.band == "calm" else "refuse"

    def _variant(self, item: AgendaItem, f: TurnFacts) -> Variant | None:
        # the reply that answers what this message said ("我是…的客服小李" needs no "你是哪位？");
        # an item met by an earlier message gets the plain answer (that message was answered)
        if item.id in self._from_credit:
            return None
        return next((v for v in item.variants if self._fits_talk(v, f)), None)

    def _fits_talk(self, v: Variant, f: TurnFacts) -> bool:
        """Whether variant ``v`` answers this message in the conversation so far: what it
        says is missing (``none``) was not said in an earlier message either."""
        return f.holds(v.when) and not self._earlier & set(v.when.none)

    def _press(self, item: AgendaItem, f: TurnFacts) -> tuple[Utterance, str]:
        """The buyer asks again for ``item``. When this or an earlier message said what the
        item's variants miss (the trainee introduced themselves, then asked about the review
        before confirming who they talk to), the press does not ask for it ("你是哪位？" to an
        agent who said who they are): the variant answering what is still missing ("在的，有什么
        事吗？" when the buyer was not named), else the press of what the buyer waits for next."""
        press = item.press or item.say
        assert press is not None
        again = next(((v, i) for i in reversed(self.answered) for v in i.variants
                      if (v.when.any or v.when.all) and f.holds(v.when)), None)
        if again is not None:
            # the reply says again what an answered item already has an answer to (the bad
            # reviewer refused once more): the same answer in other words, not a press that
            # sounds as if it was not heard ("到底给不给？" to "钱我们不能给")
            return again[0].say, again[1].id
        if self._said_before(item):
            # met by an earlier message the buyer was not answering then ("您买的运动鞋偏小了，
            # 实在对不起" before they knew who was calling): remembered, not asked for again
            # ("连句抱歉都没有吗？"); the buyer asks for what comes next
            self.credited.append(item.id)
            nxt = self._next_press(item)
            if nxt is not None:
                return nxt
        missing = {s for v in item.variants for s in v.when.none}
        talk = set(f.signals) | self._earlier
        if not talk & missing:
            return press, item.id
        fits = next((v for v in item.variants
                     if not v.when.any and not v.when.all and not talk & set(v.when.none)), None)
        if fits is not None:
            self._asked[item.id] = set(fits.when.none)
            return fits.say, item.id
        return self._next_press(item) or (press, item.id)

    def _answered_question(self, f: TurnFacts) -> None:
        """The buyer asked for what was missing ("是我，你哪位？") and this reply says it ("我是暖厨
        电器的客服小周"): the item is answered (the buyer has said 是我 already), not pressed again;
        the buyer goes on to what comes next."""
        said = set(f.signals)
        for iid, wanted in list(self._awaits.items()):
            if wanted and wanted <= said:
                del self._awaits[iid]
                # met in its own right ("您好，我是…的客服小乐，请问是陈静吗？" after "在吗"): the
                # buyer answers it as ever ("是我，有什么事吗？"); else the question is answered
                item = next((i for i in self.agenda if i.id == iid), None)
                if item is not None and not f.holds(item.needs):
                    self._asked[iid] = wanted
        for iid, missing in list(self._asked.items()):
            if not missing & said:
                continue
            del self._asked[iid]
            if any(i.id == iid for i in self.agenda) and iid not in self.credited:
                self.credited.append(iid)
                self._known.add(iid)  # said with the press: popped without being said again

    def _next_press(self, item: AgendaItem) -> tuple[Utterance, str] | None:
        """The press of the next item the buyer waits for after ``item``, and its id."""
        after = self.agenda[self.agenda.index(item) + 1:] if item in self.agenda else []
        nxt = next((i for i in after if self._required(i) and i.press is not None
                    and i.id not in self.credited), None)
        return (nxt.press, nxt.id) if nxt is not None and nxt.press is not None else None

    def _said_before(self, item: AgendaItem) -> bool:
        """Whether an earlier message already did what ``item`` waits for (its needs are plain
        signals: an apology, an explanation), though the buyer was answering something else."""
        m = item.needs
        if item.kind != "say" or m.is_empty() or m.none or m.stage_in or m.stage_after_in \
                or m.context or m.buyer_before_in or item.id in self.credited or item.id in self._stayed:
            return False
        return (not m.any or bool(self._earlier & set(m.any))) and set(m.all) <= self._earlier

    def _stays(self, item: AgendaItem, f: TurnFacts) -> bool:
        v = self._variant(item, f)
        return v is not None and v.stays

    def _utterance(self, item: AgendaItem, f: TurnFacts) -> Utterance:
        goal = self.persona.goal
        v = self._variant(item, f)
        if v is not None:
            return v.say
        if item.kind == "remedy":
            assert self.chosen is not None
            return goal.accepts[self.chosen]
        if item.kind == "review":
            assert self.review_answer is not None
            return goal.review_answers[self.review_answer]  # type: ignore[index]
        assert item.say is not None
        return item.say

    # -- mood and words ----------------------------------------------------------------------

    def _move_mood(self, signals: list[str]) -> None:
        p = self.persona
        delta = 0
        for s in signals:
            if s in p.softeners and self.used.get(s, 0) < p.softener_repeats:
                delta += p.softeners[s]
                self.used[s] = self.used.get(s, 0) + 1
            delta -= p.hardeners.get(s, 0)
        delta = max(-p.mood_cap, min(p.mood_cap, delta))
        self.mood = max(MOOD_MIN, min(MOOD_MAX, self.mood + delta))

    def _fits(self, line: str, utt: Utterance) -> bool:
        key = (line, utt.intent, tuple(utt.also), utt.cause)
        if key not in self._fits_cache:
            intent, cause = self._read(line)
            self._fits_cache[key] = (intent == utt.intent or intent in utt.also) and (
                utt.cause is None or cause == utt.cause)
        return self._fits_cache[key]

    def line(self, utt: Utterance, turn: int, purpose: str) -> str:
        """A phrasing of ``utt`` for the current mood, preferring those the engine reads as meant.

        Preferring what the engine understands keeps the script machine in step with the
        buyer's intent while the lexicons are tuned; if none fits, any phrasing is used.
        """
        lines = [ln.format_map(self.words) if "{" in ln else ln for ln in utt.lines(self.band)]
        fitting = [ln for ln in lines if self._fits(ln, utt)] or lines
        # Words not said yet in this chat first: the same demand pressed a third time was said
        # in the very words of the first ("你们到底有没有听我说话？…" at turns 3 and 5).
        fresh = [ln for ln in fitting if ln not in self.said]
        if not fresh and purpose.startswith(_ASKING) and self.persona.follow_up is not None \
                and utt is not self.persona.follow_up:
            # The phrasings left were said already: ask again in other words.
            return self.line(self.persona.follow_up, turn, purpose)
        if not fresh:
            # Not a question (the same objection to the same fault): said again in the words
            # of the next mood, sharper first ("我刚才已经说得很清楚了" -> "同样的话你还要问几遍？"),
            # not with "能先回答我的问题吗？" to a buyer who asked nothing.
            again = [ln.format_map(self.words) if "{" in ln else ln
                     for b in _AGAIN[self.band] for ln in getattr(utt, b)]
            fresh = ([ln for ln in again if ln not in self.said and self._fits(ln, utt)]
                     or [ln for ln in fitting if ln != self.last_line]
                     or [ln for ln in again if ln != self.last_line and self._fits(ln, utt)])
        return pick(fresh or fitting, self.seed, turn, purpose)

    def _aside(self, reply: BuyerReply, f: TurnFacts) -> BuyerReply:
        """The reply with a short answer to what the trainee asked on the way put before it
        ("照片我等会儿拍给你。"); the point itself is the line chosen for the agenda."""
        aside = next((a for a in self.persona.asides if any(s in f.signals for s in a.when)), None)
        if aside is None:
            return reply
        return replace(reply, text=pick(aside.say.lines(self.band), self.seed, f.turn, "aside") + reply.text)

    def _say(self, utt: Utterance, turn: int, purpose: str) -> str:
        self.last_line = self.line(utt, turn, purpose)
        self.said.add(self.last_line)
        return self.last_line

    def _reply(self, utt: Utterance, turn: int, event: Event, item: str | None,
               purpose: str) -> BuyerReply:
        return BuyerReply(self._say(utt, turn, purpose), utt.intent, event, item, self.mood,
                          self.band, self.patience, False, None)

    def _leave(self, utt: Utterance, turn: int, event: Event, item: str | None, ending: str,
               purpose: str) -> BuyerReply:
        self.left = True
        return BuyerReply(self._say(utt, turn, purpose), utt.intent, event, item, self.mood,
                          self.band, self.patience, True, ending)

    def _give_up(self, turn: int, ending: str) -> BuyerReply:
        return self._leave(self.persona.leave, turn, "leave", None, ending, "leave")

    def _goodbye(self, turn: int) -> BuyerReply:
        waiting = self.waiting()
        said = None if waiting is None else waiting.farewell or self.persona.unanswered
        if waiting is not None and said is not None:
            # the trainee said goodbye over the buyer's open question: the buyer says so
            reply = self._leave(said, turn, "leave", waiting.id, "closed", f"farewell:{waiting.id}")
        else:
            reply = self._leave(self.persona.farewell or self.persona.leave, turn, "leave", None,
                                "closed", "farewell")
        return replace(reply, waiting=waiting.id if waiting is not None else None)
