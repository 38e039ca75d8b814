"""Helpers of the integration tests: start a worker on its topics, collect what comes out."""

from __future__ import annotations

import asyncio

import pytest

from streams.app import all_topics, topic_configs
from streams.brokers import create_topics
from streams.settings import Settings
from streams.wire import follow
from streams.worker import WorkerProcess


async def collect(settings: Settings, keys: set[str], timeout: float = 90.0, worker=None) -> dict[str, list]:
    """Return every record on the output and dead-letter topics by key, once all `keys` are in."""
    seen: dict[str, list] = {}

    async def gather() -> None:
        async for record in follow(settings.bootstrap, [settings.output_topic, settings.deadletter_topic]):
            key = record.key.decode() if record.key else ""
            seen.setdefault(key, []).append(record)
            if keys <= seen.keys():
                return

    try:
        await asyncio.wait_for(gather(), timeout)
    except TimeoutError:
        log = worker.log_tail() if worker else ""
        missing = sorted(keys - seen.keys())
        pytest.fail(f"{len(missing)} of {len(keys)} inputs not accounted for after {timeout} s\n{log}")
    return seen


async def start(settings: Settings, worker: WorkerProcess) -> None:
    await create_topics(settings.bootstrap, all_topics(settings), topic_configs(settings))
    worker.start()
