"""The understanding pipeline: normalise, then buyer labels or agent acts plus guard findings."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.dataload import DataError, load_yaml
from bot.findings import Finding
from bot.guard.check import Guard
from bot.guard.names import full_name
from bot.labels import Labels
from bot.understand.agent import AgentModel
from bot.understand.normalize import Normalizer
from bot.understand.rules import compile_pending

if TYPE_CHECKING:
    from bot.learned.understand import Learned
    from bot.models import AgentUnderstanding, BuyerUnderstanding
    from bot.understand.buyer import BuyerModel


class Understander:
    """Everything that turns a message into labels, built once from a dialogs folder."""

    def __init__(self, dialogs: Path, mode: str = "combined") -> None:
        self.dialogs = dialogs
        # "combined": the rules and the learned model as `csbot learn` chose to ship them;
        # "rules" or "model" (n-grams alone) for `csbot eval`'s side-by-side figures.
        self.mode = mode
        self._specs: dict[str, dict[str, Any]] = {}
        self.normalize = Normalizer(load_yaml(dialogs, "normalize.yaml"))
        # Each model is compiled on first use: `analyze --role buyer` and `lint` need one
        # of the three, and compiling the lexicons' regexes dominates start-up.
        for name in ("lexicon/buyer.yaml", "lexicon/agent.yaml", "guard.yaml"):
            if not (dialogs / name).is_file():
                raise DataError(f"缺少数据文件：{dialogs / name}")

    def spec(self, name: str) -> dict[str, Any]:
        """A data file of the folder, read and checked once (the engine checks the labels
        the lexicons use against the same read)."""
        if name not in self._specs:
            self._specs[name] = load_yaml(self.dialogs, name)
        return self._specs[name]

    @cached_property
    def labels(self) -> Labels:
        """The folder's labels (the engine sets its own, with the stages and remedies)."""
        return Labels.load(self.dialogs)

    @cached_property
    def act_order(self) -> dict[str, int]:
        return {a: i for i, a in enumerate(self.labels.acts)}

    @cached_property
    def buyer_model(self) -> BuyerModel:
        # Imported here: the buyer's models (bot.models) are no part of `csbot lint`.
        from bot.understand.buyer import BuyerModel

        return BuyerModel(self.spec("lexicon/buyer.yaml"))

    @cached_property
    def _agent_understanding(self) -> type[AgentUnderstanding]:
        from bot.models import AgentUnderstanding  # likewise; a turn reads the class from here

        return AgentUnderstanding

    @cached_property
    def agent_model(self) -> AgentModel:
        return AgentModel(self.spec("lexicon/agent.yaml"))

    @cached_property
    def learned(self) -> Learned | None:
        """The folder's model file (dialogs/model/understand.json.gz); without one, rules alone."""
        if self.mode == "rules":
            return None
        from bot.learned.understand import Learned  # `lint` reads no model: not imported there

        return Learned.from_folder(self.dialogs)

    @cached_property
    def guard(self) -> Guard:
        spec = self.spec("guard.yaml")
        second = spec.get("second_opinion") or {}
        model = None
        if second.get("model"):
            path = self.dialogs / str(second["model"])
            if not path.is_file():
                raise DataError(f"guard.yaml：找不到 second_opinion.model 指向的模型文件 {path}")
            from bot.guard.learned import Model  # only with a second opinion (off by default)

            model = Model.load(path)
        return Guard(spec, model)

    def load_all(self) -> None:
        """Compile every model now (the service does, so no request pays for it)."""
        _ = self.buyer_model, self.agent_model, self.guard
        if self.learned is not None:
            self.learned.load_all()
        if self.guard.model is not None:
            self.guard.model.task.pack_all()
        compile_pending()

    def findings(
        self, text: str, context: Sequence[str] = (), stage: str | None = None
    ) -> list[Finding]:
        """Guard findings of an agent message (what `csbot lint` needs); ``context``: the
        agent's previous messages of the conversation, ``stage``: its stage."""
        return self.guard(self.normalize(text), self.context(context), stage)

    def public_findings(
        self, text: str, buyer_name: str | None, context: Sequence[str] = (), stage: str | None = None
    ) -> list[Finding]:
        """Guard findings of a public text (the shop's reply under a review, read by every
        future buyer): those of any agent message, and the buyer's full name (the case's
        ``buyer_name``; a nickname or a surname alone is none), which a chat may use."""
        norm = self.normalize(text)
        name = full_name(buyer_name, self.guard.titles)
        found = self.guard(norm, self.context(context), stage)
        return [*found, *self.guard.named(norm, self.normalize(name).text if name else None)]

    def context(self, texts: Sequence[str]) -> list[str]:
        """The guard's memory: previous agent messages, normalised (each once: the same
        messages come back on the next turns)."""
        return [self._memory(t) for t in texts]

    @functools.lru_cache(maxsize=512)  # noqa: B019 -- one Understander per engine, kept for the process
    def _memory(self, text: str) -> str:
        return self.normalize(text).text

    def buyer(self, text: str, scores: dict[str, float | None] | None = None) -> BuyerUnderstanding:
        """Intent, cause, emotion and confidence of a buyer message. ``scores``, when given,
        receives the calibrated probability of each family's label (``intent``, ``cause``,
        ``emotion``; None where no calibrated model gave it: the rules alone, or the rules'
        verdict standing in for the model's)."""
        norm = self.normalize(text)
        rule, cues = self.buyer_model.read(norm)
        if scores is not None:
            scores.update(intent=None, cause=None, emotion=None)
        learned = self.learned
        if self.mode == "model" and learned is not None:
            return learned.buyer(norm, rule, "model", cues, scores)  # the n-grams alone, for eval
        read = rule if learned is None else learned.buyer(norm, rule, "", cues, scores)
        # The markers the labelling convention decides by (buyer.yaml `sure`) hold whatever
        # read the message; an intent they set has no calibrated probability.
        sure = self.buyer_model.assure(norm, read, rule)
        if scores is not None and sure is not read:
            if sure.intent != read.intent:
                scores["intent"] = None
            if sure.emotion != read.emotion:
                scores["emotion"] = None
            if sure.cause != read.cause:
                scores["cause"] = None
        return sure

    def buyer_scored(self, text: str) -> tuple[BuyerUnderstanding, dict[str, float | None]]:
        """``buyer`` with the calibrated probability of each family's label."""
        scores: dict[str, float | None] = {}
        return self.buyer(text, scores), scores

    def agent(
        self, text: str, context: Sequence[str] = (), stage: str | None = None
    ) -> AgentUnderstanding:
        """Acts and guard findings of an agent message (``context``, ``stage``: see findings)."""
        return self.agent_read(text, context, stage)[0]

    def agent_read(
        self, text: str, context: Sequence[str] = (), stage: str | None = None
    ) -> tuple[AgentUnderstanding, dict[str, float]]:
        """``agent``, and the learned model's probability of each act it read that the rules
        did not (none without a model): the flow lets such an act move the stage only when
        it is sure enough (script.yaml ``act_evidence``)."""
        norm = self.normalize(text)
        acts = self.agent_model(norm)
        alone: dict[str, float] = {}
        if self.learned is not None:
            acts = self.learned.acts(norm, acts, "model" if self.mode == "model" else "", alone)
        findings = self.guard(norm, self.context(context), stage)
        codes = {f.code for f in findings}
        implied = set(acts)
        # A finding is also an act: a benefit tied to the review offers it and asks for the
        # review (unless it withholds a remedy, which is a threat, not an offer); pushing or
        # asking again about the review is asking for it; blaming the buyer is blame_buyer,
        # and the "explanation" that blames them is not an explanation.
        if "conditional_benefit" in codes:
            implied.add("request_review")
            if "threat" not in codes:
                implied.add("offer_remedy")
        if codes & {"pressure", "repeat_request"}:
            implied.add("request_review")
        if "blame" in codes:
            implied.add("blame_buyer")
            implied.discard("explain")
        order = self.act_order
        acts = sorted(implied, key=lambda a: (order.get(a, len(order)), a))
        return self._agent_understanding(text=text, acts=acts, findings=findings), alone
