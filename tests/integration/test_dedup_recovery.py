"""The story index survives a worker restart: recovered from its changelog, same verdicts."""

from __future__ import annotations

import asyncio
import random

import orjson
import pytest

from streams.dedup import StoryFingerprint, StoryIndex
from streams.wire import follow, publish
from tests.integration.streaming import collect, start

pytestmark = pytest.mark.integration


def variants(count: int, seed: int = 7) -> list[bytes]:
    """Return articles in which copies, trimmed copies and updates of earlier stories recur."""
    rng = random.Random(seed)
    places = ["Kyiv", "Geneva", "Lagos", "Lima", "Oslo", "Hanoi", "Quito", "Dakar"]
    stories = []
    records = []
    for n in range(count):
        if stories and rng.random() < 0.4:
            base = rng.choice(stories)
            kind = rng.choice(["copy", "trim", "update"])
            paragraphs = base.split("\n\n")
            if kind == "trim":
                paragraphs = paragraphs[:-1]
            elif kind == "update":
                lede = f"UPDATE 1 - Officials in {rng.choice(places)} added new figures {n}."
                paragraphs = [lede, *paragraphs]
            body = "\n\n".join(paragraphs)
        else:
            place = rng.choice(places)
            topic = rng.choice(["water", "roads", "schools", "power", "ports"])
            body = "\n\n".join(
                f"{place} story {n}, paragraph {p}: the council voted {rng.randint(1, 99)} to "
                f"{rng.randint(1, 99)} on measure {rng.randint(100, 999)} after a debate about {topic}."
                for p in range(4)
            )
            stories.append(body)
        published = f"2023-03-{1 + n // 100:02d}T{(n // 10) % 24:02d}:{n % 60:02d}:00Z"
        records.append(orjson.dumps({"id": f"v{n:04d}", "body": body, "published": published}))
    return records


@pytest.fixture
def broker(kafka_broker):
    """Recovery from a changelog needs true end offsets: Apache Kafka only (see BROKERS.md)."""
    return kafka_broker


async def test_verdicts_after_a_restart_equal_a_single_pass_over_the_same_order(settings, worker):
    await start(settings, worker)
    inputs = variants(400)
    keys = await publish(settings.bootstrap, settings.input_topic, inputs)
    await collect(settings, set(keys[:120]), worker=worker)
    worker.stop()
    worker.start()
    seen = await collect(settings, set(keys), worker=worker)
    streamed = {key: orjson.loads(records[0].value)["story"] for key, records in seen.items() if key in keys}

    # The order the index saw is the order of wire.stories; one uninterrupted pass over it is the truth.
    index = StoryIndex({})
    expected = {}
    async for record in _until(follow(settings.bootstrap, [settings.stories_topic]), len(keys)):
        fingerprint = StoryFingerprint.from_json(orjson.loads(record.value)["fingerprint"])
        expected.setdefault(fingerprint.article_id, orjson.loads(orjson.dumps(index.check(fingerprint))))
    assert streamed == expected
    relations = {verdict["relation"] for verdict in expected.values()}
    assert {"new", "duplicate", "update"} <= relations


async def _until(records, count: int):
    seen = set()
    async with asyncio.timeout(60):
        async for record in records:
            if record.key in seen:
                continue  # an at-least-once repeat on the stories topic
            seen.add(record.key)
            yield record
            if len(seen) == count:
                return
