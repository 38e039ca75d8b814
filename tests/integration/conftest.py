"""Fixtures for tests on real brokers: each kind started once per session, stopped at its end.

`broker` runs a test on both brokers (ids `embedded` and `kafka`); `embedded_broker` and
`kafka_broker` give one kind and share the same instances. `NEWSWIRE_TEST_BROKERS=embedded`
(a comma-separated list) limits the kinds; the others are skipped, never silently missing Java.
"""

from __future__ import annotations

import itertools
import os
import re
import time
import uuid
from collections.abc import Iterator

import pytest

from streams.brokers import BROKER_KINDS, Broker, start_broker
from streams.settings import Settings
from streams.worker import WorkerProcess

KINDS = ["embedded", "kafka"]
_SELECTED = [k.strip() for k in os.environ.get("NEWSWIRE_TEST_BROKERS", ",".join(KINDS)).split(",") if k]
# kind -> (startup s, stop s) for the session brokers, printed at the end of the run.
_TIMINGS: dict[str, list[float | None]] = {}
_COUNTER = itertools.count(1)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under tests/integration as integration."""
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.integration)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print how long the session brokers took to start and stop (measured, not asserted)."""
    if not _TIMINGS:
        return
    terminalreporter.section("broker timings")
    for kind, (started, stopped) in _TIMINGS.items():
        stop = f"{stopped:.2f} s" if stopped is not None else "-"
        terminalreporter.write_line(f"{kind:>9}: start {started:.2f} s, stop {stop}")


class BrokerPool:
    """Session brokers by kind, started on first use and stopped at the end of the session."""

    def __init__(self) -> None:
        self._brokers: dict[str, Broker] = {}

    def get(self, kind: str) -> Broker:
        """Return the running session broker of `kind`, starting it if needed."""
        if kind not in _SELECTED:
            pytest.skip(f"{kind} broker not in NEWSWIRE_TEST_BROKERS={','.join(_SELECTED)}")
        broker = self._brokers.get(kind)
        if broker is None:
            began = time.monotonic()
            broker = self._brokers[kind] = start_broker(kind)
            _TIMINGS[kind] = [time.monotonic() - began, None]
        elif not broker.running:  # a test stopped it: bring it back on the same ports
            broker.restart()
        return broker

    def close(self) -> None:
        """Stop every broker of the pool."""
        for kind, broker in self._brokers.items():
            broker.stop()
            _TIMINGS[kind][1] = broker.stop_seconds
        self._brokers.clear()


@pytest.fixture(scope="session")
def broker_pool() -> Iterator[BrokerPool]:
    """Return the session's brokers by kind."""
    pool = BrokerPool()
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture(scope="session")
def broker_kinds() -> list[str]:
    """Return the broker kinds this run tests (NEWSWIRE_TEST_BROKERS, default all)."""
    return list(_SELECTED)


@pytest.fixture(scope="session", params=KINDS, ids=KINDS)
def broker(request: pytest.FixtureRequest, broker_pool: BrokerPool) -> Broker:
    """Return a running broker: each test using it runs once per kind."""
    assert set(KINDS) == set(BROKER_KINDS)
    return broker_pool.get(request.param)


@pytest.fixture(scope="session")
def embedded_broker(broker_pool: BrokerPool) -> Broker:
    """Return the running embedded (tansu) broker."""
    return broker_pool.get("embedded")


@pytest.fixture(scope="session")
def kafka_broker(broker_pool: BrokerPool) -> Broker:
    """Return the running Apache Kafka broker."""
    return broker_pool.get("kafka")


@pytest.fixture
def topic_prefix(request: pytest.FixtureRequest) -> str:
    """Return a prefix unique to this test (and run) for topic names and group ids, ending in '.'."""
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", request.node.name).strip("-")[:80]
    return f"t{next(_COUNTER)}-{name}-{uuid.uuid4().hex[:6]}."


# -- a worker on its own topics ------------------------------------------------------------------


@pytest.fixture
def settings(broker, topic_prefix) -> Settings:
    """Return settings with topics and app id of this test's own."""
    return Settings(
        broker=broker.url,
        app_id=f"{topic_prefix}newswire".replace(".", "-"),
        input_topic=f"{topic_prefix}articles",
        stories_topic=f"{topic_prefix}stories",
        output_topic=f"{topic_prefix}enriched",
        deadletter_topic=f"{topic_prefix}deadletter",
        max_body_bytes=16384,
    )


@pytest.fixture
def worker(settings, tmp_path):
    """Return a (not yet started) worker process for `settings`; it is stopped after the test."""
    env = {
        "NEWSWIRE_BROKER": settings.broker,
        "NEWSWIRE_APP_ID": settings.app_id,
        "NEWSWIRE_INPUT_TOPIC": settings.input_topic,
        "NEWSWIRE_STORIES_TOPIC": settings.stories_topic,
        "NEWSWIRE_OUTPUT_TOPIC": settings.output_topic,
        "NEWSWIRE_DEADLETTER_TOPIC": settings.deadletter_topic,
        "NEWSWIRE_MAX_BODY_BYTES": str(settings.max_body_bytes),
        "NEWSWIRE_DATA_DIR": str(tmp_path / "worker"),
    }
    process = WorkerProcess(env, log_path=tmp_path / "worker.log")
    yield process
    process.stop()
