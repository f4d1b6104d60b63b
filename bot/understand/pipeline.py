"""The understanding pipeline: normalise, then buyer labels or agent acts plus guard findings."""

from __future__ import annotations

from pathlib import Path

from bot.dataload import load_yaml
from bot.guard.check import Guard
from bot.models import AgentUnderstanding, BuyerUnderstanding
from bot.understand.agent import AgentModel
from bot.understand.buyer import BuyerModel
from bot.understand.normalize import Normalizer


class Understander:
    """Everything that turns a message into labels, built once from a dialogs folder."""

    def __init__(self, dialogs: Path) -> None:
        self.normalize = Normalizer(load_yaml(dialogs, "normalize.yaml"))
        self.buyer_model = BuyerModel(load_yaml(dialogs, "lexicon/buyer.yaml"))
        self.agent_model = AgentModel(load_yaml(dialogs, "lexicon/agent.yaml"))
        self.guard = Guard(load_yaml(dialogs, "guard.yaml"))

    def buyer(self, text: str) -> BuyerUnderstanding:
        """Intent, cause, emotion and confidence of a buyer message."""
        return self.buyer_model(self.normalize(text))

    def agent(self, text: str) -> AgentUnderstanding:
        """Acts and guard findings of an agent message."""
        norm = self.normalize(text)
        acts = self.agent_model(norm)
        findings = self.guard(norm)
        if any(f.code == "blame" for f in findings):
            acts.append("blame_buyer")
        return AgentUnderstanding(text=text, acts=acts, findings=findings)  # type: ignore[arg-type]
