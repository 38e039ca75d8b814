"""Faults on Apache Kafka: a worker killed mid-stream, a broker restarted, a worker leaving its group.

After each, every input must be accounted for on the output or the dead letter (at least once),
a record delivered twice must be byte-identical under the same key, and the story verdicts must
equal one uninterrupted pass over the order the story index saw (the stories topic).
These run on Apache Kafka only: the embedded broker's end offsets are wrong, so Faust cannot
recover a table from its changelog there (see BROKERS.md), and it cannot be restarted with its data.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import signal
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

from streams.dedup import StoryFingerprint, StoryIndex
from streams.settings import Settings
from streams.wire import follow, publish
from streams.worker import WorkerProcess
from tests.integration.streaming import collect, start

pytestmark = pytest.mark.integration

PLACES = ["Kyiv", "Geneva", "Lagos", "Lima", "Oslo", "Hanoi", "Quito", "Dakar", "Paris", "Lyon"]
TOPICS = ["water", "roads", "schools", "power", "ports", "budget", "floods", "the harvest"]
START = datetime(2023, 3, 1, tzinfo=UTC)
# The articles' publication times span less than the dedup window. A repeat (at least once) of an
# article the index has already expired is decided afresh and may differ from the first copy: in
# a backfill squeezing weeks of news into a minute, a repeat after a crash can come that late.
SPAN = timedelta(hours=48)
BAD = [  # each made unique by the record number n: one input, one key
    lambda n: b" " * (n + 1),
    lambda n: f"[{n}, 2]".encode(),
    lambda n: f'{{"id": "x{n}"}}'.encode(),
    lambda n: f"caf\xe9 {n}".encode("latin-1"),
    lambda n: f'{{"body": {n}}}'.encode(),
    lambda n: f'{{"body": "ok {n}", "published": [1]}}'.encode(),
]


def articles(count: int, seed: int = 11) -> list[bytes]:
    """Return `count` small varied inputs, each with a key of its own: JSON and plain text, English
    and French, copies, trimmed copies and updates of earlier stories, a few bad records (3%)."""
    rng = random.Random(seed)
    stories: list[str] = []
    records: list[bytes] = []
    for n in range(count):
        if rng.random() < 0.03:
            records.append(rng.choice(BAD)(n))
            continue
        place = rng.choice(PLACES)
        if stories and rng.random() < 0.35:
            paragraphs = rng.choice(stories[-40:]).split("\n\n")  # a recent story, in the window
            kind = rng.choice(["copy", "trim", "update"])
            if kind == "trim":
                paragraphs = paragraphs[:-1]
            elif kind == "update":
                paragraphs = [
                    f"UPDATE - Officials in {place} gave new figures on {n % 28 + 1} March.",
                    *paragraphs,
                ]
            body = "\n\n".join(paragraphs)
        elif rng.random() < 0.3:
            body = "\n\n".join(
                f"{place.upper()} (AFP) - Le conseil a voté {rng.randint(1, 99)} voix contre "
                f"{rng.randint(1, 99)} lundi sur la mesure {rng.randint(100, 999)}, "
                f"dossier {n}, paragraphe {p}."
                for p in range(3)
            )
            stories.append(body)
        else:
            body = "\n\n".join(
                f"{place} story {n}, paragraph {p}: the council voted {rng.randint(1, 99)} to "
                f"{rng.randint(1, 99)} on Tuesday on measure {rng.randint(100, 999)} "
                f"about {rng.choice(TOPICS)}."
                for p in range(3)
            )
            stories.append(body)
        # Two days of news, inside the 72-hour dedup window: see SPAN.
        published = (START + SPAN * n / count).strftime("%Y-%m-%dT%H:%M:%SZ")
        if (f"story {n}," in body or f"dossier {n}," in body) and rng.random() < 0.2:
            records.append(f"date {published[:10]}\n{body}".encode())  # plain text, as dispatches come
        else:
            records.append(orjson.dumps({"id": f"f{n:05d}", "body": body, "published": published}))
    return records


def assert_repeats_identical(seen: dict[str, list], keys: list[str], settings: Settings) -> int:
    """Check each key came out, every copy byte-identical on one topic; return how many were repeats."""
    assert len(set(keys)) == len(keys), "the inputs must have a key each"
    repeats = 0
    for key in keys:
        copies = seen[key]
        if len({(r.topic, r.value) for r in copies}) > 1:
            shown = [(r.topic.rsplit(".", 1)[-1], r.partition, r.offset, _story(r.value)) for r in copies]
            raise AssertionError(f"{key}: copies differ: {shown}")
        assert copies[0].topic in (settings.output_topic, settings.deadletter_topic)
        repeats += len(copies) - 1
    return repeats


async def single_pass_verdicts(settings: Settings, count: int) -> dict[str, dict]:
    """Return the verdicts one uninterrupted index gives over the stories topic's order.

    Every record goes to the index, repeats too (the live index sees them); an article's verdict
    is the one its first appearance got.
    """
    index = StoryIndex({}, window_hours=settings.dedup_window_hours)
    verdicts: dict[str, dict] = {}
    async with asyncio.timeout(60):
        async for record in follow(settings.bootstrap, [settings.stories_topic]):
            fingerprint = StoryFingerprint.from_json(orjson.loads(record.value)["fingerprint"])
            verdict = orjson.loads(orjson.dumps(index.check(fingerprint)))
            verdicts.setdefault(fingerprint.article_id, verdict)
            if len(verdicts) == count:
                return verdicts
    return verdicts


def _story(value: bytes) -> object:
    try:
        return orjson.loads(value).get("story")
    except (orjson.JSONDecodeError, AttributeError):
        return value[:80]


def assert_same_verdicts(streamed: dict[str, dict], expected: dict[str, dict]) -> None:
    """Check the streamed verdicts equal the single pass's, showing the first differences in full."""
    differing = [key for key in expected if streamed.get(key) != expected[key]]
    differing += sorted(set(streamed) - set(expected))
    shown = "\n".join(
        f"{key}: streamed {streamed.get(key)}\n  one pass {expected.get(key)}" for key in differing[:6]
    )
    assert not differing, f"{len(differing)} verdicts differ from one uninterrupted pass:\n{shown}"


def streamed_verdicts(seen: dict[str, list], settings: Settings) -> dict[str, dict]:
    """Return the story verdict of every enriched event in `seen`, by article id."""
    return {
        key: orjson.loads(copies[0].value)["story"]
        for key, copies in seen.items()
        if copies[0].topic == settings.output_topic
    }


async def collect_count(settings: Settings, keys: list[str], at_least: int, timeout: float = 120) -> None:
    """Return once `at_least` of `keys` have come out (the worker is under way)."""
    wanted = set(keys)
    found: set[str] = set()
    async with asyncio.timeout(timeout):
        async for record in follow(settings.bootstrap, [settings.output_topic, settings.deadletter_topic]):
            key = record.key.decode() if record.key else ""
            if key in wanted:
                found.add(key)
                if len(found) >= at_least:
                    return


@pytest.fixture
def broker(broker):
    """Return the session broker of this run's kind; the embedded one is skipped, with the reason."""
    if broker.kind == "embedded":
        pytest.skip(
            "embedded broker: its end offsets are wrong, so Faust cannot recover the story table from "
            "its changelog, and its memory storage does not survive a restart (BROKERS.md)"
        )
    return broker


# -- a worker killed with SIGKILL --------------------------------------------------------------------


@pytest.mark.parametrize("disk", ["same-disk", "new-disk"])
async def test_a_worker_killed_mid_stream_and_restarted_accounts_for_every_input(
    settings, worker, tmp_path, disk
):
    """`same-disk`: the restarted worker finds its local store as the crash left it. `new-disk`: it
    has none (a replaced machine), so the story index comes back from the changelog alone."""
    began = time.monotonic()
    inputs = articles(10_000)
    await start(settings, worker)
    keys = await publish(settings.bootstrap, settings.input_topic, inputs)
    await collect_count(settings, keys, at_least=3000)
    worker.kill()
    killed_at = time.monotonic() - began
    if disk == "new-disk":
        worker.env["NEWSWIRE_DATA_DIR"] = str(tmp_path / "new-disk")
    worker.start()
    seen = await collect(settings, set(keys), timeout=150, worker=worker)
    elapsed = time.monotonic() - began

    repeats = assert_repeats_identical(seen, keys, settings)
    streamed = streamed_verdicts(seen, settings)
    expected = await single_pass_verdicts(settings, len(streamed))
    assert_same_verdicts(streamed, expected)
    assert {"new", "duplicate", "update"} <= {v["relation"] for v in expected.values()}
    assert len(streamed) < len(set(keys))  # some inputs were dead-lettered, and were counted too
    print(
        f"\nSIGKILL ({disk}): killed at {killed_at:.1f} s, {len(set(keys))} inputs accounted for in "
        f"{elapsed:.1f} s, {repeats} records delivered again (byte-identical)"
    )


# -- the broker restarted under a running worker -------------------------------------------------------


async def test_a_broker_restart_under_a_running_worker_loses_nothing(settings, worker, broker):
    began = time.monotonic()
    inputs = articles(4000, seed=12)
    first, second = inputs[:3000], inputs[3000:]
    await start(settings, worker)
    keys = await publish(settings.bootstrap, settings.input_topic, first)
    await collect_count(settings, keys, at_least=500)
    stopped = time.monotonic()
    broker.restart()  # same ports, same data; the session fixture keeps it running afterwards
    restart_seconds = time.monotonic() - stopped
    keys += await publish(settings.bootstrap, settings.input_topic, second)
    seen = await collect(settings, set(keys), timeout=150, worker=worker)
    elapsed = time.monotonic() - began

    assert worker.running(), worker.log_tail()
    repeats = assert_repeats_identical(seen, keys, settings)
    streamed = streamed_verdicts(seen, settings)
    assert_same_verdicts(streamed, await single_pass_verdicts(settings, len(streamed)))
    print(
        f"\nbroker restart: {restart_seconds:.1f} s down and up, {len(set(keys))} inputs accounted for in "
        f"{elapsed:.1f} s, {repeats} records delivered again (byte-identical)"
    )


# -- two workers in one group ------------------------------------------------------------------------------

_ASSIGNED = re.compile(r"^\| (\S+?)\s+\| \{([^}]*)\}\s+\|$")


def assigned_partitions(log: Path) -> dict[str, set[int]]:
    """Return the partitions a Faust worker's log says it was assigned last, by topic."""
    text = log.read_text(errors="replace")
    start_at = text.rfind("Setting newly assigned partitions")
    if start_at < 0:
        return {}
    found: dict[str, set[int]] = {}
    for line in text[start_at:].splitlines()[1:]:
        if line.startswith("+") or line.startswith("| topic"):
            continue
        match = _ASSIGNED.match(line.strip())
        if not match:
            break
        partitions: set[int] = set()
        for part in filter(None, (p.strip() for p in match.group(2).split(","))):
            low, _, high = part.partition("-")
            partitions.update(range(int(low), int(high or low) + 1))
        found[match.group(1)] = partitions
    return found


def wait_for(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"not within {timeout:.0f} s: {what}")
        time.sleep(0.2)


async def test_two_workers_split_the_partitions_and_one_takes_over_when_the_other_leaves(
    settings, worker, tmp_path
):
    began = time.monotonic()
    second = WorkerProcess(
        {**worker.env, "NEWSWIRE_DATA_DIR": str(tmp_path / "second")}, log_path=tmp_path / "second.log"
    )
    workers = [worker, second]
    try:
        await start(settings, worker)
        second.start()

        def split() -> bool:
            shares = [assigned_partitions(w.log_path).get(settings.input_topic, set()) for w in workers]
            return all(shares) and set().union(*shares) == set(range(settings.partitions))

        wait_for(split, 90, "the input partitions split between the two workers")
        shares = [sorted(assigned_partitions(w.log_path)[settings.input_topic]) for w in workers]
        assert not set(shares[0]) & set(shares[1]), shares

        inputs = articles(4000, seed=13)
        keys = await publish(settings.bootstrap, settings.input_topic, inputs)
        await collect_count(settings, keys, at_least=1000)
        # The one that leaves is the one deciding stories: the other must recover the index too.
        leaving = next(w for w in workers if assigned_partitions(w.log_path).get(settings.stories_topic))
        staying = second if leaving is worker else worker
        assert leaving.stop() == 0
        wait_for(
            lambda: (
                assigned_partitions(staying.log_path).get(settings.input_topic)
                == set(range(settings.partitions))
            ),
            60,
            "the remaining worker took every partition",
        )
        assert assigned_partitions(staying.log_path).get(settings.stories_topic) == {0}
        try:
            seen = await collect(settings, set(keys), timeout=120, worker=staying)
        except pytest.fail.Exception as failure:
            # mode's worker logs the stack of every task on SIGUSR1: show where the survivor hangs.
            os.kill(staying.process.pid, signal.SIGUSR1)
            time.sleep(3)
            raise AssertionError(f"{failure}\n-- survivor's task stacks:\n{staying.log_tail(400)}") from None
        elapsed = time.monotonic() - began
    finally:
        second.stop()

    repeats = assert_repeats_identical(seen, keys, settings)
    streamed = streamed_verdicts(seen, settings)
    assert_same_verdicts(streamed, await single_pass_verdicts(settings, len(streamed)))
    print(
        f"\ntwo workers: input partitions split {shares[0]} / {shares[1]}; after one left, "
        f"{len(set(keys))} inputs accounted for in {elapsed:.1f} s, {repeats} records delivered again"
    )
