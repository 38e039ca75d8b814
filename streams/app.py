"""The Faust app: topics, the dedup table and two agents. Wiring only; the stages live elsewhere.

wire.articles --enrich--> wire.stories (1 partition) --decide--> wire.enriched
      \\                                                  /
       `--------------- rejected ---> wire.deadletter <-'
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import faust
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.types import EventT

from streams import pipeline
from streams.brokers import create_topics
from streams.deadletter import DeadLetter, Rejected
from streams.dedup import StoryIndex
from streams.metrics import CONTENT_TYPE_LATEST, WorkerMetrics, health, lag_by_partition
from streams.security import faust_credentials
from streams.settings import Settings

log = logging.getLogger(__name__)
settings = Settings.from_env()
metrics = WorkerMetrics()


def _short_fetch_wait(create: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap Faust's consumer factory to use `settings.fetch_wait_ms` instead of its fixed 1,500 ms.

    The embedded broker holds every fetch for the whole wait even when records arrive (measured:
    p50 1.4 s from publish to enriched at 20 articles/s; Apache Kafka: 25 ms). Faust has no setting.
    """

    def create_consumer(self: Any, transport: Any) -> Any:
        consumer = create(self, transport)
        consumer._fetch_max_wait_ms = settings.fetch_wait_ms
        return consumer

    return create_consumer


AIOKafkaConsumerThread._create_worker_consumer = _short_fetch_wait(  # type: ignore[method-assign]
    AIOKafkaConsumerThread._create_worker_consumer
)


class NewswireApp(faust.App):
    """A Faust app that creates its topics first and commits only what its agents have finished."""

    async def on_first_start(self) -> None:
        await super().on_first_start()
        # The embedded broker auto-creates unknown topics with 4 partitions; declare ours first.
        await create_topics(
            settings.bootstrap, all_topics(settings), topic_configs(settings), **settings.security
        )
        pipeline.warm_up()  # load the gazetteer and language data before the first article, not during it
        pipeline.stage_timer = metrics.observe_stage  # after the warm-up, which would skew the figures

    async def on_start(self) -> None:
        await super().on_start()
        _warn_on_gaps(self.consumer)
        _read_again_what_was_skipped(self)
        _seek_uncommitted_to_earliest(self)
        _seek_before_streams_resume(self)  # before the handover log wraps the seek: log it once
        _log_offsets_at_handover(self)


def _warn_on_gaps(consumer: faust.types.ConsumerT) -> None:
    """Log a warning when Faust meets an offset gap: it counts the records in it as processed.

    Gaps are normal on compacted or transactional topics; ours are neither, so a gap means records
    were passed over, and the commit that follows would skip them.
    """
    add_gap = consumer._add_gap  # type: ignore[attr-defined]

    async def add_gap_loudly(tp: object, offset_from: int, offset_to: int) -> None:
        log.warning("offset gap on %s: %d..%d counted as processed", tp, offset_from, offset_to)
        await add_gap(tp, offset_from, offset_to)

    consumer._add_gap = add_gap_loudly  # type: ignore[attr-defined]


def _read_again_what_was_skipped(app: faust.App, retry_after: float = 30.0, attempts: int = 3) -> None:
    """Never commit past a record the agents skipped; read its partition again from that record.

    Faust's commit takes the run of acked offsets that starts next to the committed one, but lets it
    start one further: the record at the committed offset itself may be missing from the run. Around
    a rebalance Faust's stream can skip such a record without acking it, and it was then never
    processed: 1 of 4,000 inputs in one of three runs of the integration tests under load.
    Such a record is neither acked nor held by an agent while later ones are acked: the partition is
    read again from it (the records after it come twice; their events are byte-identical). If it is
    still missing after `attempts` tries `retry_after` seconds apart, the commit goes past it: an
    input topic written by a transactional producer has offsets that hold no record. Seen
    since: a copy from before a rebalance, held but never to be acked, kept a commit 599 records
    behind until the worker stopped; such copies do not count as held.
    """
    consumer = app.consumer
    new_offset = consumer._new_offset  # type: ignore[attr-defined]
    asked: dict[Any, tuple[int, float, int]] = {}  # partition -> (offset, when, tries) of the last read-again
    seeking: set[asyncio.Future[None]] = set()

    def new_offset_after_no_skipped_record(tp: Any) -> int | None:
        committed = consumer._committed_offset[tp]  # type: ignore[attr-defined]
        acked = consumer._acked[tp]  # type: ignore[attr-defined]
        if committed is None or not acked or consumer._gap[tp] or min(acked) <= committed:  # type: ignore[attr-defined]
            return new_offset(tp)
        # A message of an earlier generation can linger there, never to be acked: it does not count.
        generation = app.consumer_generation_id
        held = any(
            m.tp == tp and m.offset == committed and m.generation_id == generation
            for m in consumer._unacked_messages  # type: ignore[attr-defined]
        )
        offset, when, tries = asked.get(tp, (-1, 0.0, 0))
        if offset == committed and tries > attempts:  # given up on, below
            return new_offset(tp)
        if held or (offset == committed and time.monotonic() - when <= retry_after):
            return None
        tries = tries + 1 if offset == committed else 1
        asked[tp] = (committed, time.monotonic(), tries)
        if tries <= attempts:
            log.warning("%s@%d was skipped, %d later acked: reading it again", tp, committed, len(acked))
            seek = asyncio.ensure_future(read_again(tp, committed))
            seeking.add(seek)
            seek.add_done_callback(seeking.discard)
            return None
        # Read again and still missing: no record there (a transaction marker) or one Faust will
        # not pass on. Committing past it beats holding the partition's commits forever.
        log.warning("%s@%d still missing after reading it again: committing past it", tp, committed)
        return new_offset(tp)

    async def read_again(tp: Any, offset: int) -> None:
        # With the flow stopped, Faust abandons the batch in hand, whose later records would move
        # the read offset past `offset` again: the record read again would be dropped. If that
        # still happens, the commit waits and the record is asked for again `retry_after` later.
        consumer.stop_flow()
        try:
            await asyncio.sleep(0.1)
            await consumer.seek(tp, offset)
        except Exception as error:  # the partition may have moved in a rebalance meanwhile
            log.warning("reading %s again from %d failed: %r", tp, offset, error)
        finally:
            if not app.rebalancing and not app.should_stop:  # else the rebalance or stop owns the flow
                consumer.resume_flow()

    consumer._new_offset = new_offset_after_no_skipped_record  # type: ignore[attr-defined]


def _seek_uncommitted_to_earliest(app: faust.App) -> None:
    """Make Faust's seek to the committed offsets move a partition with no committed offset yet to
    its earliest record, where `consumer_auto_offset_reset="earliest"` first placed it.

    aiokafka's `seek_to_committed` leaves such a partition where it is. Faust seeks back to the
    committed offsets to read again the records it fetched but did not pass to its agents (during a
    rebalance, or while its flow is stopped); before a group's first commit those records were lost:
    79 of 4,000 in one run of the two-worker takeover test, the first 60 or so of two partitions.
    Changelog partitions are left alone: table recovery places them itself.
    """
    consumer = app.consumer
    seek = consumer.perform_seek

    async def seek_to_committed_or_earliest() -> None:
        await seek()
        uncommitted = [
            tp
            for tp in consumer.assignment()
            if consumer._committed_offset.get(tp) is None and not consumer._is_changelog_tp(tp)  # type: ignore[attr-defined]
        ]
        if uncommitted:
            for tp, offset in (await consumer.earliest_offsets(*uncommitted)).items():
                await consumer.seek(tp, offset)

    consumer.perform_seek = seek_to_committed_or_earliest  # type: ignore[method-assign]


def _seek_before_streams_resume(app: faust.App) -> None:
    """Seek the input partitions back to their committed offsets before table recovery resumes them.

    Faust's recovery resumes the flow to read the changelog, then resumes the input partitions and
    only then seeks them (faust-streaming#216 fixed this order for apps without tables). In between,
    the fetcher reads on from where this worker stood before the rebalance; once the seek lands,
    Faust drops the records it reads again below its read offset. The records cleared from the
    agents' queues at revocation were then never processed: 1 of 4,000 inputs lost in 1 of 19 runs
    of the two-worker takeover test under load. Reading now starts at the committed offsets; Faust's
    own seek after the resume may take a partition back over records already read from there, and
    drops them, since they were read already.
    """
    recovery = app.tables.recovery
    seek, complete = app.consumer.perform_seek, recovery.on_recovery_completed

    async def seek_then_complete(generation_id: int = 0) -> None:
        await seek()
        await complete(generation_id)

    recovery.on_recovery_completed = seek_then_complete  # type: ignore[method-assign]


def _offsets(offsets: dict[Any, Any]) -> str:
    return ", ".join(f"{tp.topic}[{tp.partition}]@{offset}" for tp, offset in sorted(offsets.items()))


def _log_offsets_at_handover(app: faust.App) -> None:
    """Log where each partition resumes after a rebalance, and what is committed while stopping or
    rebalancing: what an on-call engineer needs to follow a partition from one worker to the next."""
    consumer = app.consumer
    seek, commit = consumer.perform_seek, consumer._commit  # type: ignore[attr-defined]

    async def perform_seek_and_log() -> None:
        await seek()
        resumed = {tp: consumer._committed_offset.get(tp) for tp in consumer.assignment()}  # type: ignore[attr-defined]
        log.info("resuming from committed offsets: %s", _offsets(resumed))

    async def commit_and_log(offsets: dict[Any, int]) -> bool:
        if app.should_stop or app.rebalancing:
            when = "stopping" if app.should_stop else "rebalancing"
            log.info("committing while %s: %s", when, _offsets(offsets))
        return await commit(offsets)

    consumer.perform_seek = perform_seek_and_log  # type: ignore[method-assign]
    consumer._commit = commit_and_log  # type: ignore[attr-defined]


def finished(event: EventT, delivery: Awaitable[Any] | None = None) -> None:
    """Note that the agent is done with `event`; log an error if its output (`delivery`) fails.

    Faust acks the event when the agent asks for the next one, and flushes the producer before
    each commit, so a commit never passes an input whose output is not on the broker. Its compiled
    stream iterator acks inline (a wrapper around `consumer.ack` never sees those acks) and does not
    ack the messages it skips while stopping or rebalancing. Acking by hand (`stream.noack()`), at
    delivery or right after the send, lost inputs in the two-worker takeover test (79 and 2 of
    4,000, one run each), which Faust's own acks passed in 77 runs.
    """
    message = event.message
    metrics.done(message.topic, message.partition, message.offset)
    if isinstance(delivery, asyncio.Future):
        delivery.add_done_callback(lambda written: _log_if_unwritten(message, written))


def _log_if_unwritten(message: faust.types.Message, delivery: asyncio.Future[Any]) -> None:
    if delivery.cancelled() or delivery.exception():
        reason = "cancelled" if delivery.cancelled() else repr(delivery.exception())
        log.error("output of %s@%d not written: %s", message.tp, message.offset, reason)


def all_topics(conf: Settings) -> dict[str, int]:
    """Return every topic the worker uses, the dedup changelog included, with its partitions."""
    return {**conf.topic_partitions(), changelog_topic(conf): 1}


def changelog_topic(conf: Settings) -> str:
    return f"{conf.app_id}-story-index-changelog"


def topic_configs(conf: Settings) -> dict[str, dict[str, str]]:
    """Return per-topic configs: room for large rejected inputs, a compacted changelog."""
    large = {"max.message.bytes": str(conf.max_message_bytes)}
    return {
        conf.input_topic: large,
        conf.deadletter_topic: large,
        changelog_topic(conf): {"cleanup.policy": "compact"},
    }


app = NewswireApp(
    settings.app_id,
    broker=settings.broker,
    broker_credentials=faust_credentials(settings.security),
    key_serializer="raw",
    value_serializer="raw",
    store=settings.store,
    datadir=settings.data_dir,
    web_enabled=settings.web_port > 0,
    web_port=settings.web_port or 6066,
    web_bind="127.0.0.1",
    broker_session_timeout=settings.session_timeout,
    broker_heartbeat_interval=settings.session_timeout / 4,
    topic_disable_leader=True,
    topic_partitions=settings.partitions,
    producer_max_request_size=settings.max_message_bytes,
    consumer_max_fetch_size=settings.max_message_bytes,
    consumer_auto_offset_reset="earliest",
    Worker="streams.worker:Worker",
)
articles = app.topic(settings.input_topic, partitions=settings.partitions)
stories = app.topic(settings.stories_topic, partitions=1)
enriched = app.topic(settings.output_topic, partitions=settings.partitions)
deadletter = app.topic(settings.deadletter_topic, partitions=1)
# Faust opens RocksDB with a 2 GB block cache and three 64 MB write buffers; the index holds a few
# hundred bytes per article of a 72-hour window, so small buffers keep the worker's memory flat.
STORE_OPTIONS = {
    "write_buffer_size": 8 * 1024**2,
    "max_write_buffer_number": 2,
    "block_cache_size": 32 * 1024**2,
}
story_index = app.Table(
    "story-index", partitions=1, key_type=str, value_type=bytes, options=dict(STORE_OPTIONS)
)


@app.agent(articles)
async def enrich(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
    """Annotate each article (ingest, dates, places, fingerprint) and pass it to the dedup agent."""
    async for event in stream.events():
        message = event.message
        metrics.articles_in.inc()
        ingested_at = datetime.fromtimestamp(message.timestamp, UTC)
        try:
            article_id, pending = pipeline.annotate(
                message.value or b"", ingested_at, max_body_bytes=settings.max_body_bytes
            )
        except Rejected as error:
            delivery = await send_dead_letter(error, event)
        except Exception as error:
            # A failure no stage foresaw costs one dead letter, not the agent. Seen: JSON nested 300
            # deep in an unknown field parses, then cannot be written back (orjson stops at 255): the
            # agent crashed, Faust restarted it 5 s later, and that message never came out.
            unforeseen = Rejected(type(error).__name__, f"could not enrich: {error}", stage="ingest")
            delivery = await send_dead_letter(unforeseen, event)
        else:
            delivery = await stories.send(key=article_id.encode(), value=pending)
        finished(event, delivery)
        yield None  # always yield: an agent that swallows a message makes agent.put() hang


def new_story_index() -> StoryIndex:
    """Return an index over the story table; it derives its in-process cache from the table on first use."""
    return StoryIndex(
        story_index, window_hours=settings.dedup_window_hours, translations=settings.dedup_translations
    )


indexes = [new_story_index()]


@app.on_partitions_assigned.connect
async def reload_story_index(app: faust.App, assigned: object, **kwargs: object) -> None:
    """After a rebalance the table may hold state recovered from its changelog: index it afresh."""
    indexes[0] = new_story_index()


@app.agent(stories)
async def decide(stream: faust.StreamT[bytes]) -> AsyncIterator[None]:
    """Give each annotated article its story verdict and publish the enriched event."""
    async for event in stream.events():
        try:
            article_id, value = pipeline.decide(event.message.value or b"", indexes[0])
        except Rejected as error:
            delivery = await send_dead_letter(error, event)
        else:
            delivery = await enriched.send(key=article_id.encode(), value=value)
            metrics.enriched(value)
        finished(event, delivery)
        yield None


async def send_dead_letter(error: Rejected, event: EventT) -> Awaitable[Any]:
    """Send the rejected message, with its reason and origin, to the dead-letter topic; return the
    delivery to wait for."""
    message = event.message
    letter = DeadLetter.of(error, message.value or b"", message.topic, message.partition, message.offset)
    delivery = await deadletter.send(key=message.key, value=letter.to_json(), headers=letter.headers())
    metrics.dead_lettered(error.stage, error.error_class)
    # Never the input at info level: a reason may quote part of it (the dead letter keeps it all).
    where = f"{message.topic}[{message.partition}]@{message.offset}"
    log.info("dead letter: %s at stage %s, %s", error.error_class, error.stage, where)
    log.debug("dead letter %s: %s", where, error.reason)
    return delivery


# -- operating it: /metrics and /health on the web port (NEWSWIRE_WEB_PORT, bound to 127.0.0.1) ----

_assigned = [False]


@app.on_partitions_assigned.connect
async def _on_assigned(app: faust.App, assigned: object, **kwargs: object) -> None:
    _assigned[0] = True


@app.on_partitions_revoked.connect
async def _on_revoked(app: faust.App, revoked: object, **kwargs: object) -> None:
    _assigned[0] = False
    metrics.finished.clear()  # a partition that comes back resumes from its committed offset


def _agent_partitions() -> list[object]:
    """Return the assigned partitions of the agents' topics (not the changelog)."""
    topics = {settings.input_topic, settings.stories_topic}
    return [tp for tp in app.consumer.assignment() if tp.topic in topics]


@app.page("/metrics")
async def metrics_page(web: faust.web.View, request: faust.web.Request) -> faust.web.Response:
    """Serve the Prometheus metrics, with consumer lag and index size taken now."""
    assigned = _agent_partitions()
    highwater, committed = {}, {}
    for tp in assigned:
        try:
            highwater[(tp.topic, tp.partition)] = app.consumer.highwater(tp)
        except Exception:  # a partition revoked mid-scrape has no highwater: skip it
            continue
        committed[(tp.topic, tp.partition)] = app.consumer._committed_offset.get(tp)
    metrics.set_lag(lag_by_partition(highwater.keys(), highwater, metrics.finished, committed))
    index = indexes[0]
    if index._built:  # never build it from here: recovery may still be filling the table
        metrics.index_size.set(len(index))
    return web.bytes(metrics.render(), content_type=CONTENT_TYPE_LATEST)


@app.page("/health")
async def health_page(web: faust.web.View, request: faust.web.Request) -> faust.web.Response:
    """Serve 200 and {"status": "ok", ...} while running and assigned, 503 and the reason otherwise."""
    status, body = health(
        running=not app.should_stop,
        assigned=_assigned[0],
        rebalancing=bool(app.rebalancing),
        partitions=[(tp.topic, tp.partition) for tp in _agent_partitions()] if _assigned[0] else [],
    )
    return web.json(body, status=status)
