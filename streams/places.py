"""Places stage: toponyms in the body resolved to GeoNames places.

Spine placeholder: resolution is the places issue's work.
"""

from __future__ import annotations

from streams.records import Article, Focus, Place


def resolve_places(article: Article) -> tuple[list[Place], Focus]:
    """Return the places `article` names, each with its mentions, and the article's focus."""
    return [], Focus(place=None, country_code=None)
