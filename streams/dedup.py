"""Dedup stage: is an article new, a republished copy, or an update of a story seen before?

Spine implementation: exact duplicates after whitespace and case folding.
"""

from __future__ import annotations

from collections.abc import MutableMapping

import orjson
import xxhash

from streams.records import StoryVerdict


def text_fingerprint(text: str) -> str:
    """Return a stable hash of `text` after folding case and whitespace."""
    return xxhash.xxh3_128_hexdigest(" ".join(text.lower().split()).encode())


class StoryIndex:
    """Decides each article's relation to the stories seen before.

    `state` is any mutable mapping of str to bytes (a dict, or a Faust table, which makes the
    index survive restarts through its changelog). A verdict, once given, is kept by article
    id, so a replayed article gets the same verdict again.
    """

    def __init__(self, state: MutableMapping[str, bytes] | None = None) -> None:
        self.state: MutableMapping[str, bytes] = {} if state is None else state

    def check(self, article_id: str, text: str, published_at: str | None = None) -> StoryVerdict:
        """Return the verdict for an article, recording it in the index."""
        seen = self.state.get(f"verdict:{article_id}")
        if seen is not None:
            return StoryVerdict(**orjson.loads(seen))
        key = f"exact:{text_fingerprint(text)}"
        first = self.state.get(key)
        if first is None:
            verdict = StoryVerdict(id=article_id, relation="new")
            self.state[key] = orjson.dumps([article_id, article_id])
        else:
            of, story = orjson.loads(first)
            verdict = StoryVerdict(id=story, relation="duplicate", of=of, similarity=1.0)
        self.state[f"verdict:{article_id}"] = orjson.dumps(verdict)
        return verdict
