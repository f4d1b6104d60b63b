"""Prometheus metrics of the service."""

from __future__ import annotations

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

    def render(self) -> bytes:
        return generate_latest(self.registry)
