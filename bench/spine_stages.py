"""A worker with the spine's minimal stages: the pipeline issue's own pipeline, to measure its speed.

The pipeline issue builds the spine with every stage behind its final interface and a minimal
real implementation: the publication time (dateparser), no place resolution, exact-text
duplicates only. `python -m bench.spine_stages worker -l warn` runs the usual worker (both agents,
the story table) with those stages: each article is parsed, its publication time read, and its
normalised text's hash looked up in the story table; the event has its full shape, with no dates
or places. The gap to the real worker is what the dates, places and dedup issues' stages cost.
"""

from __future__ import annotations

import sys
from datetime import datetime

import orjson
import xxhash

from streams import dates, pipeline
from streams.dedup import StoryIndex
from streams.ingest import parse_article
from streams.records import Focus, StoryVerdict
from streams.worker import run_worker


def annotate(raw: bytes, ingested_at: datetime, *, max_body_bytes: int = 1_000_000) -> tuple[str, bytes]:
    """Return the event with its publication time, and the hash of its normalised text."""
    article = parse_article(raw, max_body_bytes=max_body_bytes)
    published = dates.publication_time(article, ingested_at)
    event = pipeline.new_event(article, published, ingested_at, [], [], Focus(None, None))
    exact = xxhash.xxh3_64_hexdigest(" ".join(article.body.casefold().split()).encode())
    return article.id, orjson.dumps({"event": event, "exact": exact})


def decide(pending: bytes, index: StoryIndex) -> tuple[str, bytes]:
    """Call the article new, or a duplicate of the first article with the same normalised text."""
    record = orjson.loads(pending)
    event, key = record["event"], "x:" + record["exact"]
    first = index.state.get(key)
    if first is None:
        index.state[key] = event["id"].encode()
        event["story"] = StoryVerdict(id=event["id"], relation="new", version=1)
    else:
        story = bytes(first).decode()
        event["story"] = StoryVerdict(id=story, relation="duplicate", of=story, similarity=1.0, version=1)
    return event["id"], orjson.dumps(event)


if __name__ == "__main__":
    pipeline.annotate, pipeline.decide = annotate, decide
    run_worker(sys.argv[sys.argv.index("-l") + 1] if "-l" in sys.argv else "warn")
