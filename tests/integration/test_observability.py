"""A worker with its web port on: /metrics counts what went through, /health says it is ready."""

from __future__ import annotations

import asyncio
import socket
import urllib.error
import urllib.request

import orjson
import pytest

from streams.metrics import parse
from streams.wire import publish
from tests.integration.streaming import collect, start

pytestmark = pytest.mark.integration

GOOD = [
    orjson.dumps(
        {"id": f"obs-{n}", "body": f"PARIS (Reuters) - Story {n} on Monday in Lyon, France, about {word}."}
    )
    for n, word in enumerate(["wheat", "coffee", "oil"])
]
# Invalid JSON, an array, a missing body: three rejections at ingest with three error classes.
BAD = [b'{"body": "unterminated', b"[1, 2, 3]", b'{"headline": "no body"}']


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


async def _wait_for(url: str, predicate, timeout: float = 60.0) -> tuple[int, bytes]:
    """Poll `url` until `predicate(status, body)` holds; return the last answer."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    answer: tuple[int, bytes] = (0, b"")
    while loop.time() < deadline:
        try:
            answer = await asyncio.to_thread(_get, url)
        except OSError:  # not listening yet
            answer = (0, b"")
        if predicate(*answer):
            return answer
        await asyncio.sleep(0.2)
    return answer


@pytest.mark.timeout(240)
async def test_metrics_and_health(embedded_broker, topic_prefix, tmp_path) -> None:
    from streams.settings import Settings
    from streams.worker import WorkerProcess

    port = _free_port()
    settings = Settings(
        broker=embedded_broker.url,
        app_id=f"{topic_prefix}newswire".replace(".", "-"),
        input_topic=f"{topic_prefix}articles",
        stories_topic=f"{topic_prefix}stories",
        output_topic=f"{topic_prefix}enriched",
        deadletter_topic=f"{topic_prefix}deadletter",
    )
    env = {
        "NEWSWIRE_BROKER": settings.broker,
        "NEWSWIRE_APP_ID": settings.app_id,
        "NEWSWIRE_INPUT_TOPIC": settings.input_topic,
        "NEWSWIRE_STORIES_TOPIC": settings.stories_topic,
        "NEWSWIRE_OUTPUT_TOPIC": settings.output_topic,
        "NEWSWIRE_DEADLETTER_TOPIC": settings.deadletter_topic,
        "NEWSWIRE_DATA_DIR": str(tmp_path / "worker"),
        "NEWSWIRE_WEB_PORT": str(port),
        "NEWSWIRE_LOG_JSON": "1",
    }
    worker = WorkerProcess(env, log_path=tmp_path / "worker.log")
    base = f"http://127.0.0.1:{port}"
    try:
        await start(settings, worker)
        status, body = await _wait_for(f"{base}/health", lambda s, b: s == 200)
        assert status == 200, worker.log_tail()
        health = orjson.loads(body)
        assert health["status"] == "ok"
        assert sorted(health["partitions"][settings.input_topic]) == [0, 1, 2, 3]

        keys = await publish(settings.bootstrap, settings.input_topic, GOOD + BAD)
        await collect(settings, set(keys), worker=worker)

        # The counters move just after the send each event waits on: poll until they settle.
        def settled(status: int, body: bytes) -> bool:
            if status != 200:
                return False
            snap = parse(body.decode())
            return sum(snap.enriched.values()) + sum(snap.dead_letters.values()) >= 6

        status, body = await _wait_for(f"{base}/metrics", settled, timeout=30)
        snap = parse(body.decode())
        assert snap.articles_in == 6
        assert sum(snap.enriched.values()) == 3
        assert snap.enriched.get("new", 0) >= 1
        assert snap.dead_letters == {
            ("ingest", "InvalidJson"): 1,
            ("ingest", "NotAnObject"): 1,
            ("ingest", "MissingBody"): 1,
        }
        # Every enriched article went through every stage (the warm-up is not counted).
        for stage in ("ingest", "dates.published", "dates.expressions", "places", "dedup.fingerprint"):
            assert snap.stages[stage][0] >= 3, stage
        assert snap.stages["ingest"][0] == 6  # the rejected ones were timed too
        assert snap.stages["dedup.index"][0] == 3
        assert snap.latency[0] == 3
        assert snap.index_size == 3
        assert {topic for topic, _ in snap.lag} == {settings.input_topic, settings.stories_topic}
        assert all(lag >= 0 for lag in snap.lag.values())

        # Structured logs: every line the worker wrote is one JSON object; no article text in them.
        await asyncio.sleep(0.5)
        log_lines = [line for line in worker.log_path.read_text().splitlines() if line.strip()]
        records = [orjson.loads(line) for line in log_lines]
        assert any(r.get("message", "").startswith("dead letter: InvalidJson") for r in records)
        text = worker.log_path.read_text()
        assert "Story 0 on Monday" not in text and "unterminated" not in text
    finally:
        worker.stop()
    # Bound to 127.0.0.1 only, and gone with the worker.
    with pytest.raises(OSError):
        _get(f"{base}/health")
