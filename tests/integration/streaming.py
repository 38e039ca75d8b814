"""Helpers of the integration tests: start a worker on its topics, collect what comes out."""

from __future__ import annotations

import asyncio
import contextlib

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
        where = await locate(settings, set(missing[:10]))
        pytest.fail(
            f"{len(missing)} of {len(keys)} inputs not accounted for after {timeout} s; "
            f"where they are: {where}\n{log}"
        )
    return seen


async def locate(settings: Settings, keys: set[str], timeout: float = 10.0) -> dict[str, list[str]]:
    """Return, for each key, the input and stories records that carry it ("topic[partition]@offset")."""
    found: dict[str, list[str]] = {key: [] for key in keys}

    async def scan() -> None:
        async for record in follow(settings.bootstrap, [settings.input_topic, settings.stories_topic]):
            key = record.key.decode() if record.key else ""
            if key in found:
                found[key].append(f"{record.topic}[{record.partition}]@{record.offset}")

    with contextlib.suppress(TimeoutError):  # `follow` never ends: read for `timeout` seconds
        await asyncio.wait_for(scan(), timeout)
    return found


async def start(settings: Settings, worker: WorkerProcess) -> None:
    await create_topics(settings.bootstrap, all_topics(settings), topic_configs(settings))
    worker.start()
