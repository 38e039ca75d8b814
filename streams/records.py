"""The data contract: the article as parsed, the enriched event and its parts.

Data flows one way: raw bytes -> `Article` (ingest) -> `Published`, `TemporalExpression`s
(dates), `Place`s (places) -> `StoryVerdict` (dedup) -> `EnrichedEvent`. Every record is a
plain dataclass that orjson serialises natively; `schemas/` holds the public JSON Schemas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import orjson

Granularity = Literal["year", "month", "day", "minute", "second"]
PublishedOrigin = Literal["metadata", "credit-line", "dateline", "text", "ingest-time"]
Relation = Literal["new", "duplicate", "update", "translation"]


@dataclass(slots=True)
class Article:
    """One wire dispatch as parsed from its input record.

    `body` is the text exactly as published: every character offset in the enriched event
    indexes it. `published` and `dateline` are raw strings, as the feed gave them or as
    ingest found them in plain text; interpreting them is the dates stage's job.
    """

    id: str
    body: str
    source: str | None = None
    url: str | None = None
    language: str | None = None
    headline: str | None = None
    published: str | None = None
    dateline: str | None = None
    credit_line: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    # Spans of `body` that are not prose: credit lines, photo credits, a leading date marker.
    boilerplate: list[tuple[int, int]] = field(default_factory=list)


@dataclass(slots=True)
class Published:
    """When the article was published, and where that was read."""

    value: str | None
    granularity: Granularity | None
    raw: str | None
    origin: PublishedOrigin
    confidence: float = 1.0
    alternatives: list[str] = field(default_factory=list)
    note: str | None = None


@dataclass(slots=True)
class TemporalExpression:
    """A date, time, duration or set named in the body, normalised TIMEX3-style."""

    text: str
    start: int
    end: int
    value: str
    granularity: str
    type: Literal["DATE", "TIME", "DURATION", "SET"] = "DATE"


@dataclass(slots=True)
class Mention:
    """Where a place is named in the body."""

    text: str
    start: int
    end: int


@dataclass(slots=True)
class Place:
    """A toponym resolved to a GeoNames place."""

    geonameid: int
    name: str
    country_code: str | None
    admin1: str | None
    lat: float
    lon: float
    kind: str
    score: float
    mentions: list[Mention] = field(default_factory=list)


@dataclass(slots=True)
class Focus:
    """The article's main place and country."""

    place: int | None
    country_code: str | None


@dataclass(slots=True)
class StoryVerdict:
    """Whether an article is new, or a duplicate, update or translation of one seen before."""

    id: str
    relation: Relation
    of: str | None = None
    similarity: float | None = None
    version: int = 1


@dataclass(slots=True)
class PipelineInfo:
    version: str
    enriched_at: str


@dataclass(slots=True)
class EnrichedEvent:
    """What `wire.enriched` carries: the article's fields plus everything the stages found."""

    id: str
    body: str
    source: str | None
    url: str | None
    headline: str | None
    dateline: str | None
    language: str
    published: Published
    dates: list[TemporalExpression]
    places: list[Place]
    focus: Focus
    story: StoryVerdict | None  # None until the dedup stage has decided
    pipeline: PipelineInfo
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> bytes:
        """Return the event as compact JSON bytes, the same bytes for the same event."""
        return orjson.dumps(self)
