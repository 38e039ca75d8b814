"""`newswire replay` on Apache Kafka: the input again from the beginning gives the same events."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections import Counter

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from streams.wire import _partitions_of, follow, publish
from tests.integration.streaming import collect, start
from tests.integration.test_faults import articles

pytestmark = pytest.mark.integration


@pytest.fixture
def broker(kafka_broker):
    """Apache Kafka: the replay's end of input is the end offset, which the embedded broker misreports."""
    return kafka_broker


async def read_all(settings, count: int, timeout: float = 60) -> list:
    """Return the first `count` records of the output and dead-letter topics."""
    records = []
    async with asyncio.timeout(timeout):
        async for record in follow(settings.bootstrap, [settings.output_topic, settings.deadletter_topic]):
            records.append(record)
            if len(records) == count:
                return records
    return records


async def test_replay_reprocesses_the_input_into_byte_identical_events(settings, worker):
    inputs = articles(1500, seed=21)
    await start(settings, worker)
    keys = await publish(settings.bootstrap, settings.input_topic, inputs)
    await collect(settings, set(keys), worker=worker)
    worker.stop()  # the replay needs no worker; stopped, it adds no repeats to the count
    ends = await _end_offsets(settings)  # what the first run wrote, per partition
    before = sum(ends.values())

    env = {**worker.env, "PYTHONUNBUFFERED": "1"}
    done = subprocess.run(
        [sys.executable, "-m", "streams.cli", "replay"], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert f"replayed {len(inputs)} records" in done.stderr, done.stderr
    print("\n" + done.stderr.strip().splitlines()[-1])

    records = await read_all(settings, before + len(inputs))
    assert len(records) == before + len(inputs)  # the replay wrote one record per input
    first = [r for r in records if r.offset < ends[TopicPartition(r.topic, r.partition)]]
    second = [r for r in records if r.offset >= ends[TopicPartition(r.topic, r.partition)]]
    as_events = Counter((r.topic, r.key, r.value) for r in first)
    replayed = Counter((r.topic, r.key, r.value) for r in second)
    assert set(replayed) == set(as_events)  # byte-identical, same keys, same topics
    assert sum(1 for topic, _, _ in replayed if topic == settings.deadletter_topic) > 0
    relations = Counter(
        orjson.loads(v)["story"]["relation"] for t, _, v in replayed if t == settings.output_topic
    )
    assert {"new", "duplicate", "update"} <= set(relations), relations


async def _end_offsets(settings) -> dict[TopicPartition, int]:
    """Return the end offsets of the output and dead-letter topics (true on Apache Kafka)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap)
    await consumer.start()
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in (settings.output_topic, settings.deadletter_topic)
            for p in await _partitions_of(consumer, topic)
        ]
        return await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
