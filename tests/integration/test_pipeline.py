"""The pipeline on real brokers: articles in, one enriched event or dead letter out for each."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import orjson
import pytest

from streams.files import read_records
from streams.wire import publish
from tests.integration.streaming import collect, start

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = {
    name: json.loads((ROOT / f"schemas/{name}.schema.json").read_text())
    for name in ("enriched", "deadletter")
}


async def test_seed_articles_come_out_as_schema_valid_events_keyed_by_id(settings, worker, tmp_path):
    await start(settings, worker)
    seeds = list(read_records([str(ROOT / "seeds")]))
    keys = await publish(settings.bootstrap, settings.input_topic, seeds)
    seen = await collect(settings, set(keys), worker=worker)
    events = {}
    for key in keys:
        record = seen[key][0]
        assert record.topic == settings.output_topic
        event = orjson.loads(record.value)
        jsonschema.validate(event, SCHEMAS["enriched"])
        assert event["id"] == key
        events[key] = event
    assert {e["language"] for e in events.values()} == {"en", "fr"}

    # `newswire enrich` gives the same events without Kafka, but for the times only a broker knows.
    (tmp_path / "in.jsonl").write_bytes(b"".join(orjson.dumps({"body": s.decode()}) + b"\n" for s in seeds))
    out = subprocess.run(
        [sys.executable, "-m", "streams.cli", "enrich", str(tmp_path / "in.jsonl")],
        capture_output=True,
        check=True,
    )
    offline = [orjson.loads(line) for line in out.stdout.splitlines()]
    assert [e["id"] for e in offline] == keys
    for event in offline:
        assert comparable(event) == comparable(events[event["id"]])


def comparable(event: dict) -> dict:
    """Return `event` without what depends on when it passed through: enrichment and ingest time."""
    event = dict(event, pipeline=None)
    if event["published"]["origin"] == "ingest-time":
        event["published"] = None
    return event


BAD_INPUTS = {
    "InvalidJson": b'{"body": "unterminated',
    "NotAnObject": b"[1, 2, 3]",
    "MissingBody": b'{"id": "no-body"}',
    "EmptyBody": b'{"body": "   "}',
    "BodyTooLarge": orjson.dumps({"body": "x" * 20000}),
    "InvalidUtf8": b"caf\xe9 au lait",
    "WrongFieldType": b'{"body": "fine", "published": 1678307841}',
}


async def test_each_bad_input_lands_in_the_dead_letter_with_its_reason_and_the_agent_goes_on(
    settings, worker
):
    await start(settings, worker)
    good = [orjson.dumps({"id": f"good-{i}", "body": f"Article number {i} about Kyiv."}) for i in range(3)]
    inputs = [good[0], *BAD_INPUTS.values(), good[1], b"", good[2]]
    keys = await publish(settings.bootstrap, settings.input_topic, inputs)
    seen = await collect(settings, set(keys), worker=worker)
    letters = {}
    for raw, key in zip(inputs, keys, strict=True):
        record = seen[key][0]
        if raw in good:
            assert record.topic == settings.output_topic
            continue
        assert record.topic == settings.deadletter_topic
        letter = orjson.loads(record.value)
        jsonschema.validate(letter, SCHEMAS["deadletter"])
        assert base64.b64decode(letter["original_base64"]) == raw
        assert letter["topic"] == settings.input_topic and letter["offset"] is not None
        headers = dict(record.headers)
        assert headers["__connect.errors.exception.class.name"].decode() == letter["error_class"]
        letters[letter["error_class"]] = letter["reason"]
    assert set(BAD_INPUTS) | {"EmptyBody"} == set(letters)
    assert all(letters.values())
    assert worker.running()


async def test_a_worker_stopped_and_restarted_mid_stream_loses_nothing(settings, worker, broker):
    if not broker.reliable_end_offsets:
        # Measured: after a restart on tansu a few records of the dedup hop never come out (its wrong
        # end offsets confuse Faust's recovery; see BROKERS.md). Recovery is proven on Apache Kafka.
        pytest.skip("the embedded broker's end offsets are wrong; restarts are tested on Apache Kafka")
    await start(settings, worker)
    articles = [
        orjson.dumps({"id": f"a{i:04d}", "body": f"Dispatch {i}: talks in Geneva continued on day {i % 7}."})
        for i in range(600)
    ]
    keys = await publish(settings.bootstrap, settings.input_topic, articles)
    await collect(settings, set(keys[:50]), worker=worker)  # the worker is under way
    worker.stop()
    assert not worker.running()
    time.sleep(0.5)
    worker.start()
    seen = await collect(settings, set(keys), worker=worker)
    for key in keys:
        values = {record.value for record in seen[key]}
        assert len(values) == 1, f"{key} was delivered twice with different contents"
        assert seen[key][0].topic == settings.output_topic
