"""Dates stage: the publication time and the temporal expressions of the body.

Minimal spine implementation: publication time from metadata or credit line with dateparser;
body expressions are the dates issue's work.
"""

from __future__ import annotations

from datetime import UTC, datetime

import dateparser

from streams.records import Article, Published, TemporalExpression


def publication_time(article: Article, ingested_at: datetime) -> Published:
    """Return when `article` was published, falling back to `ingested_at` (the broker time)."""
    for raw, origin in ((article.published, "metadata"), (article.credit_line, "credit-line")):
        if not raw:
            continue
        parsed = dateparser.parse(raw, settings={"RETURN_AS_TIMEZONE_AWARE": False})
        if parsed is None:
            return Published(None, None, raw, origin, 0.0, note="unparseable date")
        return Published(parsed.isoformat(), "second", raw, origin)
    value = ingested_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return Published(value, "second", None, "ingest-time")


def find_dates(article: Article, published: Published) -> list[TemporalExpression]:
    """Return the temporal expressions of `article.body`, resolved against `published`."""
    return []
