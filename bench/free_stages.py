"""A worker whose stages cost next to nothing: how fast Faust and the broker alone carry articles.

`python -m bench.free_stages worker -l warn` runs the usual worker (both agents, the story table),
except that `annotate` only parses the article and `decide` only writes a record of the usual
size to the story table. Each article still makes the same trips (input -> stories -> enriched,
one changelog record), so the figure is the ceiling the stages' CPU is taken from.
"""

from __future__ import annotations

import sys
from datetime import datetime

import orjson

from streams import pipeline
from streams.dedup import StoryIndex
from streams.ingest import parse_article
from streams.worker import run_worker

STATE_BYTES = 490  # a story-table record, as bench_dedup measures it


def annotate(raw: bytes, ingested_at: datetime, *, max_body_bytes: int = 1_000_000) -> tuple[str, bytes]:
    """Parse the article and pass it on, with only the fields the benchmark reads."""
    article = parse_article(raw, max_body_bytes=max_body_bytes)
    enriched_at = pipeline.iso_utc(ingested_at)
    return article.id, orjson.dumps({"id": article.id, "pipeline": {"enriched_at": enriched_at}})


def decide(pending: bytes, index: StoryIndex) -> tuple[str, bytes]:
    """Write one record of the usual size to the story table and publish the pending record as is."""
    article_id = orjson.loads(pending)["id"]
    index.state[StoryIndex.PREFIX + article_id] = b"x" * STATE_BYTES
    return article_id, pending


if __name__ == "__main__":
    pipeline.annotate, pipeline.decide = annotate, decide
    run_worker(sys.argv[sys.argv.index("-l") + 1] if "-l" in sys.argv else "warn")
