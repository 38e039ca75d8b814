"""The worker's metrics, their reading back for `newswire stats`, the stage timing hook and JSON logs."""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime

import orjson
import pytest

from streams import pipeline
from streams.logs import JsonFormatter, json_logging_config
from streams.metrics import WorkerMetrics, health, lag_by_partition, parse, quantile, summary


def _event(relation: str, enriched_at: str = "2026-11-23T12:00:00.000Z") -> bytes:
    return orjson.dumps(
        {"id": "x", "body": "text", "story": {"relation": relation}, "pipeline": {"enriched_at": enriched_at}}
    )


def test_counts_and_histograms_survive_the_text_format() -> None:
    m = WorkerMetrics()
    for _ in range(5):
        m.articles_in.inc()
    input_time = datetime(2026, 11, 23, 12, tzinfo=UTC).timestamp()
    m.enriched(_event("new"), now=input_time + 0.2)
    m.enriched(_event("new"), now=input_time + 0.4)
    m.enriched(_event("duplicate"), now=input_time + 0.3)
    m.dead_lettered("ingest", "InvalidJson")
    m.dead_lettered("ingest", "InvalidJson")
    for seconds in (0.001, 0.002, 0.003):
        m.observe_stage("places", seconds)
    m.observe_stage("a-new-stage", 0.5)
    m.index_size.set(42)
    m.set_lag({("wire.articles", 0): 7, ("wire.articles", 1): 0, ("wire.stories", 0): 3})

    text = m.render().decode()
    assert "newswire_articles_in_total 5.0" in text
    snap = parse(text)
    assert snap.articles_in == 5
    assert snap.enriched == {"new": 2, "duplicate": 1, "update": 0}
    assert snap.dead_letters == {("ingest", "InvalidJson"): 2}
    count, mean, p99 = snap.stages["places"]
    assert count == 3 and mean == pytest.approx(0.002)
    assert 0.0025 < p99 <= 0.005  # within the bucket that holds the largest value (3 ms)
    assert snap.stages["a-new-stage"][0] == 1
    assert snap.latency[0] == 3 and snap.latency[1] == pytest.approx(0.3)
    assert snap.index_size == 42
    assert snap.lag == {("wire.articles", 0): 7, ("wire.articles", 1): 0, ("wire.stories", 0): 3}
    assert 'newswire_assigned_partitions{topic="wire.articles"} 2.0' in text


def test_lag_gauges_forget_partitions_no_longer_assigned() -> None:
    m = WorkerMetrics()
    m.set_lag({("t", 0): 5, ("t", 1): 6})
    m.set_lag({("t", 1): 2})
    assert parse(m.render().decode()).lag == {("t", 1): 2}


def test_an_event_without_story_or_time_is_counted_as_unknown_without_latency() -> None:
    m = WorkerMetrics()
    m.enriched(b"not json")
    m.enriched(orjson.dumps({"story": None, "pipeline": {"enriched_at": "garbage"}}))
    snap = parse(m.render().decode())
    assert snap.enriched["unknown"] == 2
    assert snap.latency == (0.0, 0.0, 0.0)


def test_the_dead_letter_labels_never_carry_the_reason() -> None:
    m = WorkerMetrics()
    m.dead_lettered("dates", "ValueError")
    text = m.render().decode()
    assert 'newswire_articles_deadlettered_total{error_class="ValueError",stage="dates"} 1.0' in text


def test_quantile_interpolates_within_a_bucket() -> None:
    buckets = [(0.1, 0.0), (0.2, 50.0), (0.4, 100.0), (math.inf, 100.0)]
    assert quantile(buckets, 0.5) == pytest.approx(0.2)
    assert quantile(buckets, 0.75) == pytest.approx(0.3)
    assert math.isnan(quantile([], 0.99))
    # Everything beyond the last finite bound: that bound is all a histogram can tell.
    assert quantile([(1.0, 0.0), (math.inf, 10.0)], 0.99) == 1.0


def test_lag_counts_from_the_last_finished_record_else_the_committed_offset() -> None:
    assigned = [("in", 0), ("in", 1), ("in", 2), ("in", 3)]
    highwater = {("in", 0): 100, ("in", 1): 50, ("in", 2): 10, ("in", 3): None}
    finished = {("in", 0): 89, ("in", 2): 40}  # partition 2: the embedded broker's wrong highwater
    committed = {("in", 1): 20}
    lags = lag_by_partition(assigned, highwater, finished, committed)
    assert lags == {("in", 0): 10, ("in", 1): 30, ("in", 2): 0}


@pytest.mark.parametrize(
    ("running", "assigned", "rebalancing", "code", "status"),
    [
        (True, True, False, 200, "ok"),
        (True, False, False, 503, "starting"),
        (True, True, True, 503, "rebalancing"),
        (False, True, False, 503, "stopping"),
    ],
)
def test_health(running: bool, assigned: bool, rebalancing: bool, code: int, status: str) -> None:
    got_code, body = health(
        running=running, assigned=assigned, rebalancing=rebalancing, partitions=[("in", 1), ("in", 0)]
    )
    assert (got_code, body["status"]) == (code, status)
    assert body["partitions"] == {"in": [0, 1]}


def test_summary_shows_counts_rates_and_stages() -> None:
    m = WorkerMetrics()
    before = parse(m.render().decode())
    for _ in range(20):
        m.articles_in.inc()
    m.enriched(_event("update"))
    m.dead_lettered("ingest", "EmptyBody")
    m.observe_stage("ingest", 0.0004)
    m.set_lag({("wire.articles", 0): 12})
    text = summary(parse(m.render().decode()), before, interval=2.0)
    assert "articles in" in text and "(10.0/s)" in text
    assert "update 1" in text
    assert "EmptyBody" in text
    assert "ingest" in text and "0.40 ms" in text
    assert "wire.articles[0]" in text


def test_the_pipeline_reports_each_stage_to_the_timer() -> None:
    seen: list[tuple[str, float]] = []
    pipeline.stage_timer = lambda stage, seconds: seen.append((stage, seconds))
    try:
        now = datetime(2023, 3, 8, tzinfo=UTC)
        _, pending = pipeline.annotate(b'{"body": "PARIS (Reuters) - Talks in Lyon on Monday."}', now)
        from streams.dedup import StoryIndex

        pipeline.decide(pending, StoryIndex({}))
        with pytest.raises(pipeline.Rejected):
            pipeline.annotate(b"[1]", now)
    finally:
        pipeline.stage_timer = None
    stages = [stage for stage, _ in seen]
    assert stages == [
        "ingest",
        "dates.published",
        "dates.expressions",
        "places",
        "dedup.fingerprint",
        "dedup.index",
        "ingest",  # the rejected record: timed, then dead-lettered
    ]
    assert all(seconds >= 0 for _, seconds in seen)


def test_json_log_lines_are_one_object_each() -> None:
    formatter = JsonFormatter()
    record = logging.LogRecord("streams.app", logging.INFO, __file__, 1, "two\nlines %s", ("here",), None)
    record.partition = 3  # an `extra=` field
    line = formatter.format(record)
    assert "\n" not in line
    entry = orjson.loads(line)
    assert entry["message"] == "two\nlines here"
    assert (entry["level"], entry["logger"], entry["partition"]) == ("info", "streams.app", 3)
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    assert "ValueError: boom" in orjson.loads(formatter.format(record))["exception"]


def test_json_logging_config_takes_fausts_level_names() -> None:
    assert json_logging_config("warn")["root"]["level"] == "WARNING"
    assert json_logging_config("crit")["root"]["level"] == "CRITICAL"
    assert json_logging_config("info")["root"]["level"] == "INFO"


def test_newswire_stats_reads_a_worker_and_prints_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    import http.server
    import threading

    from streams.cli import main

    m = WorkerMetrics()
    m.articles_in.inc(7)
    m.enriched(_event("new"))
    m.dead_lettered("ingest", "InvalidUtf8")

    class Worker(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/health":
                code, body = health(running=True, assigned=False, rebalancing=False)
                payload = orjson.dumps(body)
            else:
                code, payload = 200, m.render()
            self.send_response(code)
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Worker)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert main(["stats", "--url", f"http://127.0.0.1:{server.server_port}"]) == 0
    finally:
        server.shutdown()
    out = capsys.readouterr().out
    assert ": starting" in out  # /health's 503 reason
    assert "articles in                 7" in out
    assert "InvalidUtf8" in out and "new 1" in out


def test_newswire_stats_without_an_address_says_what_to_set(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from streams.cli import main

    monkeypatch.delenv("NEWSWIRE_WEB_PORT", raising=False)
    assert main(["stats"]) == 1
    assert "NEWSWIRE_WEB_PORT" in capsys.readouterr().err
