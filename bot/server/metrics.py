"""Prometheus metrics of the service."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    """The service's counters, one registry per application (tests run several)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.turns = Counter("csbot_turns_total", "Turns applied", ["role"], registry=self.registry)
        self.duplicates = Counter("csbot_duplicate_messages_total",
                                  "Repeated message ids answered from the store", registry=self.registry)
        self.latency = Histogram(
            "csbot_turn_seconds", "Time to apply and commit one turn", registry=self.registry,
            buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
        self.findings = Counter("csbot_guard_findings_total", "Guard findings on agent text",
                                ["code", "severity"], registry=self.registry)
        self.open = Gauge("csbot_open_conversations", "Open conversations",
                          registry=self.registry)
        self.channel_errors = Counter("csbot_channel_errors_total", "Platform errors",
                                      ["channel", "code"], registry=self.registry)

        # labels() looks its child up under a lock each time: the busy ones are kept.
        self._turns = {role: self.turns.labels(role) for role in ("buyer", "agent")}
        self._findings: dict[tuple[str, str], Any] = {}

    def turn(self, role: str) -> None:
        """Count one turn of ``role``."""
        (self._turns.get(role) or self.turns.labels(role)).inc()

    def finding(self, code: str, severity: str) -> None:
        """Count one guard finding."""
        child = self._findings.get((code, severity))
        if child is None:
            child = self._findings[code, severity] = self.findings.labels(code, severity)
        child.inc()

    def render(self) -> bytes:
        return generate_latest(self.registry)
