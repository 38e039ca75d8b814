"""The stages composed: the same code runs in the Faust agents and in `newswire enrich`.

Two steps, because deduplication needs one global view while everything else spreads across
partitions: `annotate` (ingest, dates, places, the dedup fingerprint: pure, parallel) and
`decide` (the story verdict from the global index).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import orjson

from streams import __version__, dates, dedup, places
from streams.deadletter import Rejected
from streams.ingest import parse_article
from streams.records import (
    Article,
    EnrichedEvent,
    Focus,
    PipelineInfo,
    Place,
    Published,
    TemporalExpression,
)

T = TypeVar("T")

# Called with (stage, seconds) after each stage; the worker points it at its metrics. None: no timing.
stage_timer: Callable[[str, float], None] | None = None


def annotate(raw: bytes, ingested_at: datetime, *, max_body_bytes: int = 1_000_000) -> tuple[str, bytes]:
    """Return (article id, pending record) for `raw`: the event, its story undecided, and its fingerprint.

    Raises `Rejected` when `raw` holds no article or a stage fails on it.
    """
    article = _stage("ingest", lambda: parse_article(raw, max_body_bytes=max_body_bytes))
    published = _stage("dates", dates.publication_time, article, ingested_at, timed_as="dates.published")
    found = _stage("dates", dates.find_dates, article, published, timed_as="dates.expressions")
    named, focus = _stage("places", places.resolve_places, article)
    fingerprint = _stage(
        "dedup",
        dedup.fingerprint,
        article,
        published.value,
        [place.geonameid for place in named if place.geonameid > 0],
        [date.value for date in found],
        timed_as="dedup.fingerprint",
    )
    event = new_event(article, published, ingested_at, found, named, focus)
    return article.id, orjson.dumps({"event": event, "fingerprint": fingerprint})


def new_event(
    article: Article,
    published: Published,
    ingested_at: datetime,
    found: list[TemporalExpression],
    named: list[Place],
    focus: Focus,
) -> EnrichedEvent:
    """Return the event of `article` with what the stages found, its story not decided yet."""
    return EnrichedEvent(
        id=article.id,
        body=article.body,
        source=article.source,
        url=article.url,
        headline=article.headline,
        dateline=article.dateline,
        language=article.language or "und",
        published=published,
        dates=found,
        places=named,
        focus=focus,
        story=None,
        pipeline=PipelineInfo(version=__version__, enriched_at=iso_utc(ingested_at)),
        extra=article.extra,
    )


def decide(pending: bytes, index: dedup.StoryIndex) -> tuple[str, bytes]:
    """Return the finished event for a pending record, as (article id, JSON bytes)."""
    try:
        record = orjson.loads(pending)
        event = record["event"]
        fingerprint = dedup.StoryFingerprint.from_json(record["fingerprint"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as error:
        raise Rejected("InvalidPendingRecord", f"not a pending record: {error}", stage="dedup") from None
    verdict = _stage("dedup", index.check, fingerprint, timed_as="dedup.index")
    event["story"] = verdict
    return event["id"], orjson.dumps(event)


def warm_up() -> None:
    """Load every stage's data (gazetteer, language data) by enriching one small article."""
    annotate(b"PARIS (Reuters) - Warm-up on Monday in Paris, France.", datetime.now(UTC))


def iso_utc(moment: datetime) -> str:
    """Return `moment` as ISO 8601 in UTC with a Z, to the millisecond."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _stage(name: str, function: Callable[..., T], *args: object, timed_as: str | None = None) -> T:
    """Run one stage; a crash on one article becomes that article's dead letter, not the agent's end.

    With a `stage_timer` set, the stage's wall time is reported under `timed_as` (default `name`).
    """
    started = time.perf_counter()
    try:
        return function(*args)
    except Rejected:
        raise
    except Exception as error:
        raise Rejected(type(error).__name__, f"{name} stage failed: {error}", stage=name) from error
    finally:
        if stage_timer is not None:
            stage_timer(timed_as or name, time.perf_counter() - started)
