"""Language identification for articles whose feed does not say."""

from __future__ import annotations

from functools import cache
from importlib import resources

import orjson
from py3langid.langid import MODEL_FILE, LanguageIdentifier

# Enough text for a stable answer; identification cost grows with length.
_SAMPLE_CHARS = 1500


@cache
def _identifier() -> LanguageIdentifier:
    data = orjson.loads(resources.files("streams").joinpath("data/ingest/languages.json").read_bytes())
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    identifier.set_languages(data["languages"])
    return identifier


def primary_subtag(tag: str) -> str:
    """Return the BCP 47 primary language subtag, lower-cased ("fr-CA" -> "fr")."""
    return tag.replace("_", "-").split("-", 1)[0].lower()


def identify(text: str) -> str:
    """Return the ISO 639-1 code of `text`'s language, or "und" when there is nothing to go on."""
    sample = text[:_SAMPLE_CHARS]
    if sum(ch.isalpha() for ch in sample) < 3:
        return "und"
    code, _score = _identifier().classify(sample)
    return code
