"""Replay: enrich the input topic again from its beginning, into the output, with the first run's verdicts.

What `newswire replay` does, and what it promises:

- It reads every partition of the input topic from the earliest offset to the end the topic has
  when the replay starts (later records are the live worker's business), in this process and
  without a consumer group: the live worker's group, committed offsets and story index are
  untouched, and the worker may keep running meanwhile.
- Each record goes through the same pure pipeline as in the worker, with the record's broker
  timestamp as its ingest time, so the enriched fields are what the current code makes of it.
- Story verdicts come from a fresh, empty story index fed in the order the live index saw the
  articles: the order of the stories topic (each article id at its first appearance). The order
  in which the worker read its input partitions is not reproducible, and a verdict depends on it
  (of two copies, the first seen is "new"); the stories topic records it. Articles the live worker
  never got to are decided after, in (timestamp, partition, offset) order.
- Rejected records go to the dead-letter topic again, with the same source coordinates.

So, with the same code and topics that still hold everything from the start, every event and
dead letter is byte-identical to the first run's, under the same key: consumers that drop repeats
by key see nothing new. What can differ: events of articles whose input or stories records were
deleted by retention (the live index saw them, the replay cannot), and everything a newer version
of the code enriches differently (which is the point of replaying after an upgrade; write to
other topics with `output_topic`/`deadletter_topic` to compare side by side).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord

from streams import pipeline
from streams.deadletter import DeadLetter, Rejected
from streams.dedup import StoryIndex
from streams.settings import Settings


@dataclass(slots=True)
class ReplayReport:
    """What a replay read and wrote."""

    inputs: int = 0
    enriched: int = 0
    dead_lettered: int = 0
    ordered: int = 0  # articles decided in the order of the stories topic
    unordered: int = 0  # articles absent from the stories topic, decided after
    seconds: float = 0.0


@dataclass(slots=True)
class _Pending:
    """An annotated input waiting for its turn in the story order."""

    key: bytes | None
    pending: bytes
    timestamp: int
    partition: int
    offset: int


async def replay(
    settings: Settings,
    *,
    output_topic: str | None = None,
    deadletter_topic: str | None = None,
    idle_seconds: float = 1.0,
) -> ReplayReport:
    """Return the report of reprocessing `settings.input_topic` from its beginning (see the module doc)."""
    began = time.monotonic()
    started_ms = int(time.time() * 1000)
    output_topic = output_topic or settings.output_topic
    deadletter_topic = deadletter_topic or settings.deadletter_topic
    report = ReplayReport()
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap,
        enable_auto_commit=False,
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=64 * 1024 * 1024,
        **settings.security,
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap,
        linger_ms=5,
        max_request_size=settings.max_message_bytes,
        **settings.security,
    )
    await consumer.start()
    await producer.start()
    sent: list[asyncio.Future] = []

    async def send(topic: str, key: bytes | None, value: bytes, headers=None) -> None:
        sent.append(await producer.send(topic, value, key=key, headers=headers))
        if len(sent) >= 1000:
            await asyncio.gather(*sent)
            sent.clear()

    async def dead_letter(
        error: Rejected, key: bytes | None, value: bytes, partition: int, offset: int
    ) -> None:
        letter = DeadLetter.of(error, value, settings.input_topic, partition, offset)
        await send(deadletter_topic, key, letter.to_json(), letter.headers())
        report.dead_lettered += 1

    index = StoryIndex({}, window_hours=settings.dedup_window_hours)

    async def decide(item: _Pending) -> None:
        try:
            article_id, value = pipeline.decide(item.pending, index)
        except Rejected as error:
            # Only a corrupt pending record lands here; the input's coordinates stand in for its own.
            await dead_letter(error, item.key, item.pending, item.partition, item.offset)
            return
        await send(output_topic, article_id.encode(), value)
        report.enriched += 1

    try:
        order = [
            record.key.decode()
            async for record in _read_to_end(consumer, settings.stories_topic, started_ms, idle_seconds)
            if record.key
        ]
        position: dict[str, int] = {}
        for article_id in order:
            position.setdefault(article_id, len(position))
        turn = [article_id for article_id, _ in sorted(position.items(), key=lambda item: item[1])]
        waiting: dict[str, list[_Pending]] = {}
        later: list[_Pending] = []
        next_turn = 0

        async for record in _read_to_end(consumer, settings.input_topic, started_ms, idle_seconds):
            report.inputs += 1
            ingested_at = datetime.fromtimestamp(record.timestamp / 1000, UTC)
            try:
                article_id, pending = pipeline.annotate(
                    record.value or b"", ingested_at, max_body_bytes=settings.max_body_bytes
                )
            except Exception as error:  # as in the worker: one dead letter, never the end of the replay
                if not isinstance(error, Rejected):
                    error = Rejected(type(error).__name__, f"could not enrich: {error}", stage="ingest")
                await dead_letter(error, record.key, record.value or b"", record.partition, record.offset)
                continue
            item = _Pending(record.key, pending, record.timestamp, record.partition, record.offset)
            place = position.get(article_id)
            if place is None:
                later.append(item)
            elif place < next_turn:
                await decide(item)  # its turn is past: the index keeps its verdict
            else:
                waiting.setdefault(article_id, []).append(item)
                while next_turn < len(turn) and turn[next_turn] in waiting:
                    for ready in waiting.pop(turn[next_turn]):
                        await decide(ready)
                        report.ordered += 1
                    next_turn += 1
        # Whatever still waits: its predecessors are no longer in the input (retention) or failed.
        for article_id in turn[next_turn:]:
            for ready in waiting.pop(article_id, []):
                await decide(ready)
                report.ordered += 1
        for item in sorted(later, key=lambda i: (i.timestamp, i.partition, i.offset)):
            await decide(item)
            report.unordered += 1
        await asyncio.gather(*sent)
        await producer.flush()
    finally:
        await producer.stop()
        await consumer.stop()
    report.seconds = time.monotonic() - began
    return report


async def _read_to_end(
    consumer: AIOKafkaConsumer, topic: str, started_ms: int, idle_seconds: float
) -> AsyncIterator[ConsumerRecord]:
    """Yield every record of `topic` (all partitions, from the earliest) that was there at `started_ms`.

    A partition is done once it reached the end offset it had at the start and then either went
    quiet for `idle_seconds` or showed a record written after the start. The second rule, not the
    end offset alone, decides: the embedded broker reports end offsets short of the last record.
    """
    partitions = await _partitions(consumer, topic)
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    ends = await consumer.end_offsets(partitions)
    open_ = set(partitions)
    quiet_since = time.monotonic()
    while open_:
        batches = await consumer.getmany(*open_, timeout_ms=200)
        got = False
        for tp, records in batches.items():
            for record in records:
                if record.offset >= ends[tp] and record.timestamp > started_ms:
                    open_.discard(tp)  # written after the replay began: the live worker's
                    break
                got = True
                yield record
        if got:
            quiet_since = time.monotonic()
        for tp in list(open_):
            if await consumer.position(tp) >= ends[tp] and time.monotonic() - quiet_since >= idle_seconds:
                open_.discard(tp)
    consumer.unsubscribe()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> list[TopicPartition]:
    for _ in range(50):
        # `consumer.topics()` refreshes a copy of the metadata, not the one `partitions_for_topic` reads.
        cluster = await consumer._client.fetch_all_metadata()
        if found := cluster.partitions_for_topic(topic):
            return [TopicPartition(topic, p) for p in sorted(found)]
        await asyncio.sleep(0.1)
    raise RuntimeError(f"topic {topic} does not exist")
