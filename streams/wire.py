"""Talk to newswire's topics from outside the worker: publish records, follow what comes out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable

import xxhash
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord

from streams.deadletter import Rejected
from streams.ingest import parse_article


def record_key(raw: bytes, max_body_bytes: int = 1_000_000) -> str:
    """Return the key to publish `raw` under: its article id, or a hash of bytes with no article."""
    try:
        return parse_article(raw, max_body_bytes=max_body_bytes).id
    except Rejected:
        return "raw-" + xxhash.xxh3_128_hexdigest(raw)


async def publish(
    bootstrap: str,
    topic: str,
    records: Iterable[bytes],
    *,
    max_request_size: int = 32 * 1024 * 1024,
    on_sent=None,
    client_options: dict | None = None,
) -> list[str]:
    """Publish each record keyed by `record_key`; return the keys in order."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        linger_ms=5,
        max_request_size=max_request_size,
        **(client_options or {}),
    )
    await producer.start()
    keys: list[str] = []
    pending: list[asyncio.Future] = []
    try:
        for raw in records:
            key = record_key(raw)
            keys.append(key)
            pending.append(await producer.send(topic, raw, key=key.encode()))
            if on_sent:
                on_sent()
            if len(pending) >= 1000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return keys


async def follow(
    bootstrap: str, topics: list[str], *, from_beginning: bool = True, client_options: dict | None = None
) -> AsyncIterator[ConsumerRecord]:
    """Yield every record of `topics` (all partitions, no consumer group) as it arrives."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        fetch_max_wait_ms=100,  # the embedded broker holds a fetch this long even when records arrive
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=64 * 1024 * 1024,
        **(client_options or {}),
    )
    await consumer.start()
    try:
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(await _partitions_of(consumer, topic))
        ]
        consumer.assign(partitions)
        if from_beginning:
            await consumer.seek_to_beginning(*partitions)
        else:
            await consumer.seek_to_end(*partitions)
        while True:
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for record in records:
                    yield record
    finally:
        await consumer.stop()


async def _partitions_of(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    for _ in range(50):
        # `consumer.topics()` refreshes a copy of the metadata, not the one `partitions_for_topic` reads.
        cluster = await consumer._client.fetch_all_metadata()
        if partitions := cluster.partitions_for_topic(topic):
            return partitions
        await asyncio.sleep(0.1)
    raise RuntimeError(f"topic {topic} does not exist")
