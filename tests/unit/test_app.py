"""The Faust agents, driven through `test_context` (no broker): every input yields one record."""

import asyncio
from collections import defaultdict
from types import SimpleNamespace
from unittest.mock import AsyncMock, patch

import orjson
import pytest
from faust.types import TP

from streams import app as wiring


@pytest.fixture(autouse=True)
def faust_app():
    wiring.app.finalize()
    wiring.app.flow_control.resume()
    with (
        patch.object(wiring.stories, "send", AsyncMock()) as to_stories,
        patch.object(wiring.enriched, "send", AsyncMock()) as to_enriched,
        patch.object(wiring.deadletter, "send", AsyncMock()) as to_deadletter,
    ):
        yield {"stories": to_stories, "enriched": to_enriched, "deadletter": to_deadletter}


async def test_enrich_passes_an_annotated_article_to_the_dedup_topic(faust_app):
    async with wiring.enrich.test_context() as agent:
        await agent.put(b'{"id": "a1", "body": "PARIS (Reuters) - The French government said on Monday."}')
    faust_app["stories"].assert_awaited_once()
    call = faust_app["stories"].await_args.kwargs
    assert call["key"] == b"a1"
    pending = orjson.loads(call["value"])
    assert pending["event"]["dateline"] == "PARIS"
    assert pending["event"]["story"] is None
    faust_app["deadletter"].assert_not_awaited()


async def test_enrich_sends_bad_input_to_the_dead_letter_and_keeps_going(faust_app):
    async with wiring.enrich.test_context() as agent:
        await agent.put(b"[1, 2]", key=b"k1")
        await agent.put(b'{"body": "Still alive."}')
    letter = orjson.loads(faust_app["deadletter"].await_args.kwargs["value"])
    assert (letter["error_class"], letter["stage"]) == ("NotAnObject", "ingest")
    assert faust_app["deadletter"].await_args.kwargs["key"] == b"k1"
    headers = dict(faust_app["deadletter"].await_args.kwargs["headers"])
    assert headers["__connect.errors.exception.class.name"] == b"NotAnObject"
    faust_app["stories"].assert_awaited_once()


async def test_decide_marks_the_second_copy_of_a_story_as_duplicate(faust_app):
    from datetime import UTC, datetime

    from streams.pipeline import annotate

    now = datetime(2023, 3, 8, tzinfo=UTC)
    body = "KYIV (AP) - " + "Shelling went on through the night in the east of the country. " * 8
    _, first = annotate(orjson.dumps({"id": "first", "body": body}), now)
    _, second = annotate(orjson.dumps({"id": "second", "body": body}), now)
    async with wiring.decide.test_context() as agent:
        await agent.put(first)
        await agent.put(second)
    events = [orjson.loads(call.kwargs["value"]) for call in faust_app["enriched"].await_args_list]
    assert [e["story"]["relation"] for e in events] == ["new", "duplicate"]
    assert events[1]["story"]["of"] == "first"
    assert events[1]["story"]["id"] == events[0]["story"]["id"]


async def test_decide_dead_letters_a_record_that_is_not_a_pending_event(faust_app):
    async with wiring.decide.test_context() as agent:
        await agent.put(b"garbage")
    letter = orjson.loads(faust_app["deadletter"].await_args.kwargs["value"])
    assert (letter["error_class"], letter["stage"]) == ("InvalidPendingRecord", "dedup")


async def test_a_send_that_fails_is_logged_with_the_input_it_was_for(caplog):
    from faust.types.tuples import ConsumerMessage

    message = ConsumerMessage("wire.articles", 2, 7, 0.0, 0, [], b"k", b"v", None)
    delivery = asyncio.get_running_loop().create_future()
    wiring.finished(SimpleNamespace(message=message), delivery)
    delivery.set_exception(ConnectionError("broker gone"))
    await asyncio.sleep(0)
    assert "wire.articles" in caplog.text and "@7 not written" in caplog.text


async def test_table_recovery_seeks_the_input_partitions_before_it_resumes_them():
    calls: list[object] = []

    async def perform_seek() -> None:
        calls.append("seek to committed offsets")

    async def on_recovery_completed(generation_id: int = 0) -> None:
        calls.append(("resume input partitions", generation_id))

    recovery = SimpleNamespace(on_recovery_completed=on_recovery_completed)
    app = SimpleNamespace(consumer=SimpleNamespace(perform_seek=perform_seek))
    app.tables = SimpleNamespace(recovery=recovery)
    wiring._seek_before_streams_resume(app)
    await recovery.on_recovery_completed(7)
    assert calls == ["seek to committed offsets", ("resume input partitions", 7)]


async def test_a_partition_with_no_committed_offset_is_sought_to_its_earliest_record():
    committed, fresh, changelog = TP("wire.articles", 0), TP("wire.articles", 1), TP("app-index-changelog", 0)
    sought: dict[TP, int] = {}

    async def perform_seek() -> None:
        sought[committed] = 41  # what aiokafka's seek_to_committed does: nothing for the other two

    async def earliest_offsets(*partitions: TP) -> dict[TP, int]:
        return {tp: 3 for tp in partitions}

    async def seek(tp: TP, offset: int) -> None:
        sought[tp] = offset

    consumer = SimpleNamespace(
        perform_seek=perform_seek,
        earliest_offsets=earliest_offsets,
        seek=seek,
        assignment=lambda: {committed, fresh, changelog},
        _committed_offset={committed: 41},
        _is_changelog_tp=lambda tp: tp == changelog,
    )
    app = SimpleNamespace(consumer=consumer)
    wiring._seek_uncommitted_to_earliest(app)
    await consumer.perform_seek()
    assert sought == {committed: 41, fresh: 3}


def _skipping_consumer(tp: TP, calls: list[object]) -> SimpleNamespace:
    """A stand-in for Faust's consumer with record `tp`@4 neither acked nor held, 5 to 7 acked."""

    async def seek(partition: TP, offset: int) -> None:
        calls.append(("seek", partition, offset))

    consumer = SimpleNamespace(
        _new_offset=lambda partition: 99,  # Faust's own answer: past offset 4, which nobody acked
        _committed_offset=defaultdict(lambda: None, {tp: 4}),
        _acked=defaultdict(list, {tp: [5, 6, 7]}),
        _gap=defaultdict(list),
        _unacked_messages=[],
        seek=seek,
        stop_flow=lambda: calls.append("stop flow"),
        resume_flow=lambda: calls.append("resume flow"),
    )
    return SimpleNamespace(consumer=consumer, consumer_generation_id=2, rebalancing=False, should_stop=False)


async def test_a_skipped_record_stops_the_commit_and_is_read_again():
    tp = TP("wire.articles", 0)
    calls: list[object] = []
    app = _skipping_consumer(tp, calls)
    consumer = app.consumer
    wiring._read_again_what_was_skipped(app)
    assert consumer._new_offset(tp) is None
    await asyncio.sleep(0.3)
    assert calls == ["stop flow", ("seek", tp, 4), "resume flow"]
    assert consumer._new_offset(tp) is None and len(calls) == 3  # asked once, not at every commit

    other = TP("wire.articles", 1)  # an agent still holds the record: no reading again, no commit
    consumer._committed_offset[other], consumer._acked[other] = 4, [5]
    consumer._unacked_messages = [SimpleNamespace(tp=other, offset=4, generation_id=2)]
    assert consumer._new_offset(other) is None and len(calls) == 3
    consumer._unacked_messages[0].generation_id = 1  # held since an earlier generation: never acked
    assert consumer._new_offset(other) is None
    await asyncio.sleep(0.3)
    assert calls[3:] == ["stop flow", ("seek", other, 4), "resume flow"]

    consumer._acked[tp] = [4, 5, 6, 7]  # read again and acked: Faust's commit goes on
    assert consumer._new_offset(tp) == 99


async def test_a_record_still_missing_after_reading_it_again_is_committed_past():
    tp = TP("wire.articles", 0)  # offset 4: a transaction marker, no record
    calls: list[object] = []
    app = _skipping_consumer(tp, calls)
    consumer = app.consumer
    wiring._read_again_what_was_skipped(app, retry_after=0.05, attempts=2)
    for _ in range(2):
        assert consumer._new_offset(tp) is None
        await asyncio.sleep(0.3)
    seeks = [call for call in calls if call[0] == "seek"]
    assert seeks == [("seek", tp, 4)] * 2
    assert consumer._new_offset(tp) == 99 and consumer._new_offset(tp) == 99
    assert [call for call in calls if call[0] == "seek"] == seeks
