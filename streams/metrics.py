"""Prometheus metrics of a worker: what came in and went out, how long each stage took, how far behind it is.

The worker serves them at `/metrics` on its web port (see `streams/app.py`); `newswire stats` reads
them back (`parse` and `summary` below). No Faust import here: the app feeds plain numbers in.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import orjson
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.parser import text_string_to_metric_families

__all__ = ["CONTENT_TYPE_LATEST", "STAGES", "WorkerMetrics", "health", "lag_by_partition", "parse", "summary"]

# The text format generate_latest writes; aiohttp takes the charset apart, so none here (it is UTF-8).
CONTENT_TYPE_LATEST = "text/plain; version=0.0.4"
# The labels `pipeline._stage` reports under, in pipeline order.
STAGES = ("ingest", "dates.published", "dates.expressions", "places", "dedup.fingerprint", "dedup.index")
# Stages run from tens of microseconds (ingest) to tens of milliseconds (places on a long story).
STAGE_BUCKETS = (
    0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
)  # fmt: skip
# Input record timestamp to enriched event sent: milliseconds when idle, minutes behind a backlog.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0)


class WorkerMetrics:
    """The worker's Prometheus metrics, in a registry of their own (so tests can make fresh ones)."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        self.articles_in = Counter(
            "newswire_articles_in", "Input records read from the input topic.", registry=r
        )
        self.articles_out = Counter(
            "newswire_articles_enriched",
            "Enriched events sent to the output topic, by story relation.",
            ["relation"],
            registry=r,
        )
        self.dead_letters = Counter(
            "newswire_articles_deadlettered",
            "Records sent to the dead-letter topic, by stage and error class.",
            ["stage", "error_class"],
            registry=r,
        )
        self.stage_seconds = Histogram(
            "newswire_stage_seconds",
            "Wall time of each pipeline stage per article.",
            ["stage"],
            buckets=STAGE_BUCKETS,
            registry=r,
        )
        self.latency_seconds = Histogram(
            "newswire_latency_seconds",
            "From the input record's broker timestamp to its enriched event being sent.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.consumer_lag = Gauge(
            "newswire_consumer_lag",
            "Records between the partition highwater and the last one the agents finished; "
            "unreliable on the embedded broker (its end offsets are wrong).",
            ["topic", "partition"],
            registry=r,
        )
        self.index_size = Gauge(
            "newswire_dedup_index_articles", "Articles in the story index (within the window).", registry=r
        )
        self.assigned = Gauge(
            "newswire_assigned_partitions", "Partitions of each agent topic assigned to this worker.",
            ["topic"], registry=r,
        )  # fmt: skip
        self._stages = {stage: self.stage_seconds.labels(stage) for stage in STAGES}
        self._relations = {rel: self.articles_out.labels(rel) for rel in ("new", "duplicate", "update")}
        # Highest offset the agents finished, by (topic, partition): what lag is measured from.
        self.finished: dict[tuple[str, int], int] = {}
        for child in self._relations.values():
            child.inc(0)  # show the zero series before the first event, so rates start at 0

    def observe_stage(self, stage: str, seconds: float) -> None:
        """Record one stage's wall time (the hook `pipeline.stage_timer` calls)."""
        child = self._stages.get(stage)
        if child is None:
            child = self._stages[stage] = self.stage_seconds.labels(stage)
        child.observe(seconds)

    def enriched(self, value: bytes, now: float | None = None) -> None:
        """Count one enriched event by its story relation; observe its latency since the input record.

        The latency runs from `pipeline.enriched_at` (the input record's broker timestamp) to `now`.
        """
        relation, input_time = _relation_and_time(value)
        child = self._relations.get(relation)
        if child is None:
            child = self._relations[relation] = self.articles_out.labels(relation)
        child.inc()
        if input_time is not None:
            self.latency_seconds.observe(max(0.0, (time.time() if now is None else now) - input_time))

    def dead_lettered(self, stage: str, error_class: str) -> None:
        """Count one dead letter. Labels are the stage and error class, never the free-text reason."""
        self.dead_letters.labels(stage, error_class).inc()

    def done(self, topic: str, partition: int, offset: int) -> None:
        """Note that the agents finished the record at `offset`."""
        key = (topic, partition)
        if offset > self.finished.get(key, -1):
            self.finished[key] = offset

    def set_lag(self, lags: Mapping[tuple[str, int], int]) -> None:
        """Replace the lag gauges by `lags`; partitions no longer assigned disappear."""
        self.consumer_lag.clear()
        self.assigned.clear()
        per_topic: dict[str, int] = {}
        for (topic, partition), lag in sorted(lags.items()):
            self.consumer_lag.labels(topic, str(partition)).set(lag)
            per_topic[topic] = per_topic.get(topic, 0) + 1
        for topic, count in per_topic.items():
            self.assigned.labels(topic).set(count)

    def render(self) -> bytes:
        """Return the metrics in the Prometheus text format."""
        return generate_latest(self.registry)


def _relation_and_time(value: bytes) -> tuple[str, float | None]:
    """Return an enriched event's story relation ("unknown" if none) and its input time (Unix seconds)."""
    try:
        event = orjson.loads(value)
        relation = str((event.get("story") or {}).get("relation") or "unknown")
    except (orjson.JSONDecodeError, AttributeError):
        return "unknown", None
    try:
        return relation, datetime.fromisoformat(event["pipeline"]["enriched_at"]).timestamp()
    except (KeyError, TypeError, ValueError):
        return relation, None


def lag_by_partition(
    assigned: Iterable[tuple[str, int]],
    highwater: Mapping[tuple[str, int], int | None],
    finished: Mapping[tuple[str, int], int],
    committed: Mapping[tuple[str, int], int | None] | None = None,
) -> dict[tuple[str, int], int]:
    """Return records behind, by (topic, partition): highwater minus the next offset to process.

    The next offset is one past the last finished, else the committed offset (a partition this
    worker has not read from yet), else 0. Partitions with no known highwater (nothing fetched
    yet) are left out. Never negative: the embedded broker's highwater can trail what was read.
    """
    committed = committed or {}
    lags: dict[tuple[str, int], int] = {}
    for tp in assigned:
        high = highwater.get(tp)
        if high is None:
            continue
        position = finished[tp] + 1 if tp in finished else committed.get(tp) or 0
        lags[tp] = max(0, high - position)
    return lags


def health(
    *, running: bool, assigned: bool, rebalancing: bool, partitions: Iterable[tuple[str, int]] = ()
) -> tuple[int, dict[str, object]]:
    """Return the HTTP status and JSON body of `/health`: 200 when running and assigned, else 503."""
    if not running:
        status = "stopping"
    elif rebalancing:
        status = "rebalancing"
    elif not assigned:
        status = "starting"
    else:
        status = "ok"
    by_topic: dict[str, list[int]] = {}
    for topic, partition in sorted(partitions):
        by_topic.setdefault(topic, []).append(partition)
    return (200 if status == "ok" else 503), {"status": status, "partitions": by_topic}


# -- reading the figures back (newswire stats) ----------------------------------------------------


@dataclass
class Snapshot:
    """The worker's figures as `newswire stats` shows them."""

    articles_in: float = 0.0
    enriched: dict[str, float] = field(default_factory=dict)  # by relation
    dead_letters: dict[tuple[str, str], float] = field(default_factory=dict)  # by (stage, error class)
    stages: dict[str, tuple[float, float, float]] = field(default_factory=dict)  # count, mean s, p99 s
    latency: tuple[float, float, float] = (0.0, 0.0, 0.0)  # count, mean s, p99 s
    lag: dict[tuple[str, int], float] = field(default_factory=dict)
    index_size: float | None = None


def parse(text: str) -> Snapshot:
    """Return the newswire figures in a Prometheus text exposition (what `/metrics` serves)."""
    snap = Snapshot()
    buckets: dict[str, dict[str, list[tuple[float, float]]]] = {"stage": {}, "latency": {}}
    sums: dict[str, dict[str, list[float]]] = {"stage": {}, "latency": {}}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            name, labels, value = sample.name, sample.labels, sample.value
            if name == "newswire_articles_in_total":
                snap.articles_in = value
            elif name == "newswire_articles_enriched_total":
                snap.enriched[labels["relation"]] = value
            elif name == "newswire_articles_deadlettered_total":
                snap.dead_letters[(labels["stage"], labels["error_class"])] = value
            elif name == "newswire_consumer_lag":
                snap.lag[(labels["topic"], int(labels["partition"]))] = value
            elif name == "newswire_dedup_index_articles":
                snap.index_size = value
            elif name.startswith(("newswire_stage_seconds", "newswire_latency_seconds")):
                kind = "stage" if name.startswith("newswire_stage") else "latency"
                key = labels.get("stage", "")
                if name.endswith("_bucket"):
                    buckets[kind].setdefault(key, []).append((float(labels["le"]), value))
                elif name.endswith(("_count", "_sum")):
                    pair = sums[kind].setdefault(key, [0.0, 0.0])
                    pair[0 if name.endswith("_count") else 1] = value
    for stage, (count, total) in sums["stage"].items():
        if count:
            snap.stages[stage] = (count, total / count, quantile(buckets["stage"].get(stage, []), 0.99))
    if "" in sums["latency"]:
        count, total = sums["latency"][""]
        if count:
            snap.latency = (count, total / count, quantile(buckets["latency"].get("", []), 0.99))
    return snap


def quantile(buckets: list[tuple[float, float]], q: float) -> float:
    """Return the `q` quantile of cumulative histogram buckets (le, count), as Prometheus interpolates."""
    buckets = sorted(buckets)
    if not buckets or buckets[-1][1] == 0:
        return float("nan")
    rank = q * buckets[-1][1]
    lower_le, lower_count = 0.0, 0.0
    for le, count in buckets:
        if count >= rank:
            if le == float("inf"):
                return lower_le  # beyond the last finite bucket: its bound is all we know
            if count == lower_count:
                return le
            return lower_le + (le - lower_le) * (rank - lower_count) / (count - lower_count)
        lower_le, lower_count = le, count
    return lower_le


def summary(snap: Snapshot, previous: Snapshot | None = None, interval: float | None = None) -> str:
    """Return a readable table of `snap`; with a `previous` snapshot, rates per second too."""

    def rate(now: float, before: float) -> str:
        if previous is None or not interval:
            return ""
        return f"  ({(now - before) / interval:,.1f}/s)"

    enriched = sum(snap.enriched.values())
    dead = sum(snap.dead_letters.values())
    before_enriched = sum(previous.enriched.values()) if previous else 0.0
    before_dead = sum(previous.dead_letters.values()) if previous else 0.0
    before_in = previous.articles_in if previous else 0.0
    lines = [
        f"articles in        {snap.articles_in:>10,.0f}{rate(snap.articles_in, before_in)}",
        f"enriched           {enriched:>10,.0f}{rate(enriched, before_enriched)}   "
        + ", ".join(f"{rel} {n:,.0f}" for rel, n in sorted(snap.enriched.items()) if n),
        f"dead-lettered      {dead:>10,.0f}{rate(dead, before_dead)}",
    ]
    for (stage, error_class), n in sorted(snap.dead_letters.items(), key=lambda item: -item[1]):
        lines.append(f"  {stage:<10} {error_class:<30} {n:>8,.0f}")
    if snap.index_size is not None:
        lines.append(f"dedup index        {snap.index_size:>10,.0f} articles")
    count, mean, p99 = snap.latency
    if count:
        lines.append(
            f"latency            mean {1000 * mean:,.1f} ms   p99 {_ms(p99)}   (input timestamp to sent)"
        )
    if snap.stages:
        lines.append("stage              count        mean       p99")
        order = {stage: n for n, stage in enumerate(STAGES)}
        for stage, (n, mean, p99) in sorted(snap.stages.items(), key=lambda s: order.get(s[0], 99)):
            lines.append(f"  {stage:<17}{n:>7,.0f} {1000 * mean:>8.2f} ms {_ms(p99):>10}")
    if snap.lag:
        total = sum(snap.lag.values())
        lines.append(f"consumer lag       {total:>10,.0f}   (unreliable on the embedded broker)")
        for (topic, partition), lag in sorted(snap.lag.items()):
            lines.append(f"  {topic}[{partition}]".ljust(30) + f"{lag:>8,.0f}")
    return "\n".join(lines)


def _ms(seconds: float) -> str:
    return "-" if seconds != seconds else f"{1000 * seconds:,.2f} ms"


def fetch(base_url: str, timeout: float = 5.0) -> tuple[dict[str, object], Snapshot]:
    """Return the worker's `/health` answer and its `/metrics` figures, read from `base_url`."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(f"{base_url}/health", timeout=timeout) as response:
            status = orjson.loads(response.read())
    except urllib.error.HTTPError as error:  # 503 still carries the JSON reason
        status = orjson.loads(error.read() or b"{}") or {"status": f"HTTP {error.code}"}
    with urllib.request.urlopen(f"{base_url}/metrics", timeout=timeout) as response:
        return status, parse(response.read().decode())


async def group_offsets(
    bootstrap: str, group: str, topics: list[str], client_options: Mapping[str, object] | None = None
) -> dict[tuple[str, int], tuple[int | None, int]]:
    """Return (committed offset, end offset) by (topic, partition) for a consumer group, from the broker.

    The embedded broker's end offsets are wrong (the last batch's base offset + 1), so there the
    difference is not a lag.
    """
    from aiokafka import AIOKafkaConsumer, TopicPartition
    from aiokafka.admin import AIOKafkaAdminClient

    options = dict(client_options or {})
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **options)  # type: ignore[arg-type]
    # A consumer in the group that never subscribes reads its commits without joining it (the
    # admin client's OffsetFetch fails on the embedded broker).
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False, **options
    )  # type: ignore[arg-type]
    await admin.start()
    await consumer.start()
    try:
        partitions = [
            TopicPartition(described["topic"], part["partition"])
            for described in await admin.describe_topics(topics)
            if described["error_code"] == 0
            for part in described["partitions"]
        ]
        ends = await consumer.end_offsets(partitions) if partitions else {}
        committed = {tp: await consumer.committed(tp) for tp in partitions}
    finally:
        await consumer.stop()
        await admin.close()
    return {(tp.topic, tp.partition): (committed[tp], ends[tp]) for tp in partitions}


def group_table(offsets: Mapping[tuple[str, int], tuple[int | None, int]]) -> str:
    """Return a readable table of committed and end offsets by partition."""
    lines = ["partition                          committed        end     behind"]
    for (topic, partition), (committed, end) in sorted(offsets.items()):
        behind = "-" if committed is None else f"{max(0, end - committed):,}"
        done = "-" if committed is None else f"{committed:,}"
        lines.append(f"  {f'{topic}[{partition}]':<30} {done:>10} {end:>10,} {behind:>10}")
    return "\n".join(lines)
