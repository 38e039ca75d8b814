"""Bad input at volume: 10,000 malformed records through a real worker, which never falls over.

Hypothesis generates the records (random bytes, invalid UTF-8, control characters, deeply nested
JSON, wrong types, huge fields) and one 10 MB body rides along. Each record must come out once,
enriched or dead-lettered with a reason, the worker must keep running, and its resident memory,
sampled from /proc while it works, must stay flat.
"""

from __future__ import annotations

import asyncio
import base64
import json
import queue
import threading
import time
from collections import Counter
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from streams.wire import follow, publish
from tests.integration.streaming import start

pytestmark = pytest.mark.integration

COUNT = 10_000
TEN_MB = 10 * 1024 * 1024

# -- what malformed looks like ---------------------------------------------------------------------

_words = st.sampled_from(["Kyiv", "Paris", "talks", "on", "Monday", "the", "mayor", "said", "2023", "\n\n"])
_prose = st.lists(_words, min_size=1, max_size=40).map(" ".join)
_controls = st.text(st.characters(min_codepoint=0, max_codepoint=31), min_size=1, max_size=40)
_odd_text = st.text(
    st.characters(blacklist_categories=("Cs",), min_codepoint=0, max_codepoint=0x10FFFF), max_size=200
)
_json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False),
    _odd_text,
)
_json_values = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_odd_text, inner, max_size=4),
    max_leaves=12,
)
_fields = ["body", "id", "source", "url", "language", "headline", "published", "dateline"]


def _nested(depth: int, kind: str) -> bytes:
    """Return JSON nested `depth` levels deep: in the body, in an extra field, or the whole record."""
    inner = b"[" * depth + b"1" + b"]" * depth
    if kind == "record":
        return inner
    if kind == "body":
        return b'{"body": ' + inner + b"}"
    return b'{"body": "Talks in Geneva went on.", "extra": ' + inner + b"}"


def _huge(size: int, field: str, char: str) -> bytes:
    record = {"body": "Talks in Geneva went on for a day."}
    record[field] = char * size
    return orjson.dumps(record)


def _bad_utf8(prefix: str, junk: bytes, suffix: str) -> bytes:
    return prefix.encode() + junk + suffix.encode()


def _json_text(value: object) -> bytes:
    """Return `value` as JSON; the standard library writes integers beyond 64 bits too."""
    return json.dumps(value, ensure_ascii=False).encode()


malformed = st.one_of(
    # random bytes
    st.binary(max_size=300),
    # invalid UTF-8 inside otherwise readable text or JSON
    st.builds(
        _bad_utf8,
        st.sampled_from(["", "PARIS (AFP) - ", '{"body": "']),
        st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xf0\x28\x8c\xbc", b"\xe9", b"\x80\x80"]),
        _prose,
    ),
    # control characters in plain text and in JSON fields
    st.builds(lambda c, p: (c + p + c).encode(), _controls, _prose),
    st.builds(lambda c, p: orjson.dumps({"body": p + c, "headline": c}), _controls, _prose),
    # deeply nested JSON: within orjson's limit, beyond it, and beyond what it can write back
    st.builds(_nested, st.integers(2, 3000), st.sampled_from(["record", "body", "extra"])),
    # wrong types for every field, arbitrary JSON values, and JSON that is not an object
    st.builds(
        lambda field, value: _json_text({"body": "Talks in Oslo.", field: value}),
        st.sampled_from(_fields),
        _json_values,
    ),
    _json_values.map(_json_text),
    st.dictionaries(st.sampled_from([*_fields, "x", ""]), _json_values, max_size=6).map(_json_text),
    # huge fields: over the body limit, or large in another field
    st.builds(
        _huge, st.integers(17_000, 40_000), st.sampled_from(["body", "headline", "x"]), st.sampled_from("aé€")
    ),
    # odd but valid text: every code point but surrogates
    _odd_text.map(lambda text: text.encode()),
)


def generate(count: int, batch: int = 20, on_chunk=None, chunk: int = 1000) -> list[bytes]:
    """Return `count` malformed records; the same ones on every run (derandomized Hypothesis).

    Drawn `batch` distinct records per example: one record per example costs Hypothesis about
    5 ms of bookkeeping each, 47 s for 10,000 here; batches of 20 take a third of that.
    `on_chunk` receives them `chunk` at a time as they are drawn.
    """
    drawn: list[bytes] = []
    handed = 0

    @hypothesis_settings(
        max_examples=-(-count // batch),
        database=None,
        derandomize=True,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(malformed, min_size=batch, max_size=batch, unique=True))
    def draw(records: list[bytes]) -> None:
        nonlocal handed
        drawn.extend(records)
        while on_chunk and len(drawn) - handed >= chunk and handed < count:
            on_chunk(drawn[handed : min(handed + chunk, count)])
            handed = min(handed + chunk, count)

    draw()
    assert len(drawn) >= count, f"Hypothesis drew only {len(drawn)} records"
    if on_chunk and handed < count:
        on_chunk(drawn[handed:count])
    return drawn[:count]


def ten_megabyte_body() -> bytes:
    """Return one JSON article whose body alone is 10 MB."""
    return orjson.dumps({"id": "ten-megabytes", "body": "Geneva talks. " * (TEN_MB // 14 + 1)})


def rss_kb(pid: int) -> int:
    """Return the resident set size of process `pid` in kB (VmRSS in /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS for process {pid}")


@pytest.fixture
def broker(embedded_broker):
    """Volume, not recovery: the embedded broker will do (and is the faster one here)."""
    return embedded_broker


# Hypothesis draws in a thread while aiokafka, in the main thread, uses the random module: Hypothesis
# takes that for a strategy using it. The draws do not depend on it (derandomized, same records).
@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning")
async def test_ten_thousand_malformed_inputs_each_come_out_and_memory_stays_flat(settings, worker):
    await start(settings, worker)
    began = time.monotonic()
    # Hypothesis draws in a thread while the worker starts and works: each chunk is published as it comes.
    chunks: queue.Queue[list[bytes] | None] = queue.Queue()

    def draw_all() -> None:
        handed: list[int] = []

        def hand(part: list[bytes]) -> None:
            chunks.put(part)
            handed.append(len(part))
            if len(handed) == 5:
                chunks.put([ten_megabyte_body()])  # in the middle of the run

        try:
            generate(COUNT - 1, on_chunk=hand, chunk=1000)
        finally:
            chunks.put(None)

    drawer = threading.Thread(target=draw_all, daemon=True)
    drawer.start()
    worker.wait_ready(120)
    pid = worker.process.pid
    samples: list[tuple[int, int]] = [(0, rss_kb(pid))]  # (records out, RSS kB)
    records: list[bytes] = []
    keys: list[str] = []
    generated = 0.0

    async def publish_all() -> None:
        nonlocal generated
        while (part := await asyncio.to_thread(chunks.get)) is not None:
            records.extend(part)
            keys.extend(await publish(settings.bootstrap, settings.input_topic, part))
        generated = time.monotonic() - began

    publishing = asyncio.ensure_future(publish_all())
    expected: Counter[str] = Counter()
    seen: dict[str, list] = {}
    out = 0

    async def gather() -> None:
        nonlocal out
        last_sample = 0.0
        async for record in follow(settings.bootstrap, [settings.output_topic, settings.deadletter_topic]):
            key = record.key.decode() if record.key else ""
            seen.setdefault(key, []).append(record)
            out += 1
            if time.monotonic() - last_sample > 0.5:
                samples.append((out, rss_kb(pid)))
                last_sample = time.monotonic()
            if publishing.done() and not expected:
                expected.update(keys)
            if expected and out >= COUNT and all(len(seen.get(k, ())) >= n for k, n in expected.items()):
                return

    try:
        await asyncio.wait_for(gather(), 150)
    except TimeoutError:
        missing = sum(max(0, n - len(seen.get(k, ()))) for k, n in (expected or Counter(keys)).items())
        pytest.fail(f"{missing} of {COUNT} inputs not accounted for\n{worker.log_tail()}")
    samples.append((out, rss_kb(pid)))
    elapsed = time.monotonic() - began
    await publishing
    assert len(records) == COUNT and ten_megabyte_body() in records
    by_key: dict[str, set[bytes]] = {}  # inputs may share a key: a JSON id, or a body's hash
    for key, raw in zip(keys, records, strict=True):
        by_key.setdefault(key, set()).add(raw)

    outcomes: Counter[str] = Counter()
    for key, records_out in seen.items():
        assert key in expected, f"an output record with an unknown key {key[:40]!r}"
        for record in records_out:
            if record.topic == settings.output_topic:
                event = orjson.loads(record.value)
                assert event["id"] == key
                outcomes["enriched"] += 1
                continue
            letter = orjson.loads(record.value)
            assert letter["error_class"] and letter["reason"], letter
            assert base64.b64decode(letter["original_base64"]) in by_key[key]
            outcomes[letter["error_class"]] += 1
    assert sum(outcomes.values()) == COUNT  # exactly one record per input: no fault, no repeat
    assert outcomes["enriched"] > 1000 and len(outcomes) > 6, outcomes
    assert worker.running(), worker.log_tail()
    log = worker.log_path.read_text(errors="replace")
    assert "Traceback" not in log, worker.log_tail(80)

    # Flat memory: after the first quarter (caches warm), RSS grows by less than a loose bound.
    quarter = next(rss for done, rss in samples if done >= COUNT // 4)
    final = samples[-1][1]
    peak = max(rss for _, rss in samples)
    print(
        f"\nbad input: {COUNT} records ({sum(map(len, records)) / 1e6:.1f} MB) "
        f"drawn and published in {generated:.1f} s, "
        f"all accounted for {elapsed:.1f} s after the start; outcomes {dict(outcomes.most_common())}\n"
        f"worker RSS MB: ready {samples[0][1] / 1024:.0f}, at 25% {quarter / 1024:.0f}, "
        f"peak {peak / 1024:.0f}, final {final / 1024:.0f} ({len(samples)} samples)"
    )
    assert final - quarter < 150 * 1024, samples
    assert peak < 1024 * 1024, samples
