"""Dedup stage: is an article new, or a duplicate, update or translation of a story seen before?

Two halves, for the pipeline's two hops:

- `fingerprint(article, published_at, place_ids, date_values)`: pure, the costly part, run in the
  parallel enrichment stage. The body loses its boilerplate (credit lines, photo credits, "MORE";
  patterns in `data/dedup/markers.json`) and its update marker ("UPDATE 2 -", "CORRECTED -"), is
  case-folded into tokens (figures normalised: "1,234,000" = "1234000", "4,2" = "4.2"; number
  words and wire abbreviations spelled one way: "two" = "2", "payable" = "pay"), cut into
  word 3-grams, and each 3-gram hashed to 32 bits (its lowest bit says whether it holds a figure).
  The fingerprint keeps a *consistent sample* of those hashes: every hash <= `cut`, about half
  of them, at least `SAMPLE_MIN`, at most `SAMPLE_MAX`. Two samples cut at the lower of their two
  cuts are exact samples of the two shingle sets, so their overlap estimates both resemblance and
  containment (a short version inside a long one). Figures get their own sample, because template
  stories (quarterly results, dividends, market reports) share their words and differ only in
  their figures (and, the other way round, a results table reworded keeps its distinctive
  figures); the opening shingles are kept in order to recognise a re-topped lede, and the
  headline's words because a short notice is about whoever its headline names.
- `StoryIndex`: one global index (one partition) that decides on arrival with `relate`. Its whole
  state lives in a `MutableMapping[str, bytes]` (a dict, or a Faust table backed by a changelog):
  one binary record of ~490 bytes per article in the window, key `a:<article id>`, holding its
  sketch and its verdict. An article is found by the smallest hashes of its sample and by its
  opening shingle (a snap, or the first paragraphs of a long story, starts as the story does).
  Posting lists, story versions and the expiry heap are an in-process cache derived from that
  state, so a restarted worker makes the same decisions, and a replayed article gets its first
  verdict back. Records expire with publication time (`window_hours`).

Scale. One partition is enough: the check costs ~0.1 ms of CPU per article (0.14 ms with 19,000
articles in the window), so one worker decides ~7,000 articles/s, while all the world's wires
together send of the order of 100,000 stories a day (~1/s, peaks of tens per second). What
grows is memory: ~4.1 KB of in-process cache per article in the window (~0.6 GB for 150,000).
Beyond that, the posting keys could be sharded by hash range across partitions, each returning
its candidates' sketches to the one partition that decides (a gather step); not needed yet.

Translations (`relation: translation`) are linked only with `StoryIndex(translations=True)`.
The texts share no words, so the evidence is what survives translation: two or more shared
GeoNames ids, five or more shared figures making up 80% of the smaller text's figures, the same
normalised dates if both have any, published within a day. It is off by default because its
precision cannot be measured here (no bilingual test set): on Reuters-21578 with every other
story labelled French it makes 3 links among 19,043 stories, all 3 between texts that are not
versions of each other (see bench/bench_dedup.py).
"""

from __future__ import annotations

import heapq
import math
import re
import struct
import unicodedata
from collections import Counter
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from importlib import resources
from itertools import chain
from operator import methodcaller
from typing import Any, ClassVar

import numpy as np
import orjson
import xxhash

from streams.records import Article, Relation, StoryVerdict

SHINGLE_WORDS = 3
HASH_SPACE = 1 << 32
SAMPLE_CUT = HASH_SPACE // 2  # the sample keeps about half of a text's shingles...
SAMPLE_MIN = 96  # ...but never fewer than this many (short items need every shingle)...
SAMPLE_MAX = 160  # ...nor more than this many (state stays under 1 KB per article)
NUMBERS_MAX = 24
EVIDENCE_MAX = 8
FIGURE_BIT = np.uint32(1)
_NOT_FIGURE_BIT = np.uint64(0xFFFFFFFE)
LEDE = 8  # opening shingles kept in text order: a new lede on old copy is a re-topped update
HEADLINE_WORDS = 12  # headline words kept (the smallest hashes): who a short notice is about
FULL_CUT = HASH_SPACE - 1  # the sample holds every hash of the text

_M1 = np.uint64(0x9E3779B185EBCA87)
_M2 = np.uint64(0xC2B2AE3D27D4EB4F)
_M3 = np.uint64(0x165667B19E3779F9)
_S29 = np.uint64(29)
_S32 = np.uint64(32)
_ONE = np.uint64(1)

# Tokens are what whitespace separates once punctuation is blanked (str.translate and split run
# in C, three times faster than a tokenising regex), stripped of the sentence's dots and commas.
# Kept inside a token: ".,/-", so that figures stay whole ("1,250,000", "12-1/2", "2,5").
# A no-break space inside a figure ("70\u00a0000") is a thousands separator: it is dropped.
_EDGE_CHARS = ".,/-"
_BLANKS = str.maketrans(
    {
        **{
            chr(i): " "
            for i in range(0x3000)
            if unicodedata.category(chr(i))[0] in "PSZC" and chr(i) not in _EDGE_CHARS + "\u00a0\u202f"
        },
        "\u00a0": None,
        "\u202f": None,
    }
)
_STRIP = methodcaller("strip", _EDGE_CHARS)
# Where a token would need stripping: one of those next to a space. After `str.translate` the
# only other whitespace str.split knows is the ideographic space, U+3000 (left alone, the one
# white space above U+3000: a test checks it): a text holding it takes the slow path too.
_WHITESPACE_ABOVE_BLANKS = "\u3000"
_EDGES = (
    *(c + " " for c in _EDGE_CHARS),
    *(" " + c for c in _EDGE_CHARS),
    _WHITESPACE_ABOVE_BLANKS,
)
_IS_FIGURE = ":".__gt__  # a token is a figure or letters: digits sort before ":", letters after
_GROUPS = re.compile(r"\d{1,3}(?:[,.]\d{3})+")
_SEPARATOR = re.compile(r"\D")
_YEAR = re.compile(r"1[89]\d\d|20\d\d")
# A hyphen between a figure and a word: one desk writes "an 11-year life", another "an 11 year
# life" ("mid-1988", "mid 1988"). A range ("12-1/2") or a compound of words keeps its hyphen.
_FIGURE_HYPHEN = re.compile(r"-(?:(?<=\d-)(?=[^\W\d_])|(?<=[^\W\d_]-)(?=\d))")


@dataclass(slots=True)
class StoryFingerprint:
    """What the dedup index needs to know about one article, computed where the article is enriched.

    Plain ints and lists, so orjson serialises it as is; `from_json` rebuilds it on the other side
    of the internal topic. `sample` holds, sorted, every 32-bit shingle hash of the normalised
    body that is <= `cut`; `numbers` likewise holds the hashes <= `number_cut` of the distinct
    figures. `published_ts` is the publication time in Unix seconds (None when unknown).
    `marker` is "update", "correction" or "repeat" when the copy says so; `lede` holds the hashes
    of the first shingles in text order; `headline` the smallest hashes of the headline's words.
    """

    article_id: str
    published_ts: float | None
    language: str | None
    exact: int
    n_shingles: int
    cut: int
    sample: list[int]
    n_numbers: int
    number_cut: int
    numbers: list[int]
    marker: str | None = None
    places: list[int] = field(default_factory=list)
    dates: list[int] = field(default_factory=list)
    lede: list[int] = field(default_factory=list)
    headline: list[int] = field(default_factory=list)

    _INTS: ClassVar[tuple[str, ...]] = ("exact", "n_shingles", "cut", "n_numbers", "number_cut")
    _LISTS: ClassVar[tuple[str, ...]] = ("sample", "numbers", "places", "dates", "lede", "headline")

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> StoryFingerprint:
        """Return the fingerprint that `orjson.loads(orjson.dumps(fp))` came from.

        Raises `TypeError` or `ValueError` for anything else, so a corrupt record is rejected.
        """
        if not isinstance(data, dict) or not isinstance(data.get("article_id"), str):
            raise TypeError("a fingerprint is an object with a string article_id")
        for name in cls._INTS:
            if type(data.get(name)) is not int:
                raise TypeError(f"fingerprint field {name} must be an integer")
        for name in cls._LISTS:
            values = data.get(name, [])
            if not isinstance(values, list):
                raise TypeError(f"fingerprint field {name} must be a list of integers")
            # min and max compare every element: a string or None fails, so does a value out of range.
            if values and not (min(values) >= 0 and max(values) <= FULL_CUT):
                raise ValueError(f"fingerprint field {name} holds values beyond 32 bits")
        ts = data.get("published_ts")
        if ts is not None and not isinstance(ts, int | float):
            raise TypeError("fingerprint field published_ts must be a number or null")
        marker = data.get("marker")
        if marker not in (None, *MARKERS):
            raise ValueError(f"unknown update marker {marker!r}")
        language = data.get("language")
        return cls(
            article_id=data["article_id"],
            published_ts=None if ts is None else float(ts),
            language=language if isinstance(language, str) else None,
            exact=data["exact"],
            n_shingles=data["n_shingles"],
            cut=data["cut"],
            sample=data["sample"],
            n_numbers=data["n_numbers"],
            number_cut=data["number_cut"],
            numbers=data["numbers"],
            marker=marker,
            places=data.get("places", []),
            dates=data.get("dates", []),
            lede=data.get("lede", []),
            headline=data.get("headline", []),
        )


MARKERS = ("update", "correction", "repeat")


# --- fingerprint -------------------------------------------------------------------------------


@cache
def _data() -> dict[str, Any]:
    return orjson.loads(resources.files("streams").joinpath("data/dedup/markers.json").read_bytes())


@cache
def _rules() -> dict[str, Any]:
    """Return the compiled marker patterns, boilerplate pattern and number words of every language."""
    data = _data()

    def kinds(part: str) -> str:
        # One alternation, a named group per kind: `match.lastgroup` says which kind matched.
        groups = []
        for kind in MARKERS:
            patterns = [p for by_language in data[kind][part].values() for p in by_language]
            if patterns:
                groups.append(f"(?P<{kind}>" + "|".join(f"(?:{p})" for p in patterns) + ")")
        return "|".join(groups)

    markers = {
        "head": re.compile(rf"^\s*(?:{kinds('head')})", re.IGNORECASE),
        # Searched in the lower-cased closing lines: without IGNORECASE, twice as fast.
        "note": re.compile(kinds("note")),
    }
    lines = "|".join(p for patterns in data["boilerplate"]["lines"].values() for p in patterns)
    inline = "|".join(p for patterns in data["boilerplate"]["inline"].values() for p in patterns)
    return {
        "markers": markers,
        # Matched on case-folded text without IGNORECASE, which is several times faster.
        # A line starts after "\n" (`prose` puts one before the text): a literal first character
        # lets the search skip to line starts, where "^" with MULTILINE tries every position.
        "lines": re.compile(rf"\n[ \t]*(?:{lines})[ \t]*(?=\n|\Z)"),
        "inline": re.compile(rf"(?:{inline})", re.MULTILINE),
    }


@cache
def _spellings(language: str | None) -> dict[str, str]:
    """Return word -> the one spelling both versions get: number words as digits, abbreviations.

    For a language without tables, or none given, the tables of every language together.
    """
    data = _data()
    numbers, short = data["number_words"], data["abbreviations"]
    if language in numbers or language in short:
        return {**short.get(language, {}), **numbers.get(language, {})}
    merged: dict[str, str] = {}
    for table in chain(short.values(), numbers.values()):
        merged.update(table)
    return merged


class _Memo(dict[str, Any]):
    """A bounded cache of a function of a string: `memo[key]` calls the function on a miss only.

    Wire vocabulary repeats a lot, so `map(memo.__getitem__, words)` mostly runs dict lookups in
    C; a Python call (`__missing__`) is made for a word not seen since the cache was last emptied.
    """

    def __init__(self, function: Any, limit: int) -> None:
        super().__init__()
        self.function = function
        self.limit = limit

    def __missing__(self, key: str) -> Any:
        if len(self) > self.limit:
            self.clear()
        value = self[key] = self.function(key)
        return value


def _token_hash(token: str) -> int:
    """Return the 64-bit hash of a token, its lowest bit set for a figure (see `_token_hashes`)."""
    return (xxhash.xxh3_64_intdigest(token.encode()) & ~1) | _IS_FIGURE(token)


_token_hashes = _Memo(_token_hash, 500_000)


def _hash32(text: str) -> int:
    return xxhash.xxh32_intdigest(text.encode())


def _figure_hash(figure: str) -> int:
    """Return the 32-bit hash of a normalised figure, its lowest bit set if the figure is distinctive.

    Distinctive: three or more significant digits ("2,253,664", "872.3", "12.1"), not a year, a
    range or a fraction. Such figures are what one results table or report has and another
    lacks; small counts, years, fractions ("1-1/4") and ranges ("124-150") fill every template.
    """
    digits = figure.replace(".", "").strip("0")
    distinctive = len(digits) >= 3 and digits.isdigit() and not _YEAR.fullmatch(figure)
    return (_hash32(figure) & ~1) | distinctive


_figure_hashes = _Memo(_figure_hash, 200_000)


def normal_figure(figure: str) -> str:
    """Return a figure without thousands separators, with a decimal point: "1,234.5" -> "1234.5"."""
    if figure.isdigit():
        return figure
    groups = _GROUPS.match(figure)
    if groups and figure[groups.end() : groups.end() + 1].isdigit():
        groups = None  # "1.6180" has four decimals, not a thousands group: an exchange rate
    if (groups and groups.end() < len(figure)) or (groups and len(groups.group(0)) > 4):
        tail = figure[groups.end() :]
        return _SEPARATOR.sub("", groups.group(0)) + ("." + tail[1:] if tail else "")
    return figure.replace(",", ".")


_normal_figures = _Memo(normal_figure, 200_000)


def strip_markers(text: str) -> tuple[str, str | None]:
    """Return `text` without a leading update marker ("UPDATE 2 -", "CORRECTED -"), and the marker kind."""
    found = _rules()["markers"]["head"].match(text)
    return (text[found.end() :], found.lastgroup) if found else (text, None)


def find_marker(headline: str | None, body: str) -> str | None:
    """Return "update", "correction" or "repeat" if the headline, body start or closing note says so."""
    for text in (headline or "", body[:160]):
        kind = strip_markers(text)[1]
        if kind is not None:
            return kind
    found = _rules()["markers"]["note"].search(body[-300:].lower())
    return found.lastgroup if found else None


def prose(article: Article) -> str:
    """Return the body case-folded, without boilerplate spans and lines nor a leading update marker."""
    body = article.body
    if article.boilerplate:
        parts, last = [], 0
        for start, end in sorted(article.boilerplate):
            parts.append(body[last:start])
            last = max(last, end)
        parts.append(body[last:])
        body = " ".join(parts)
    rules = _rules()
    body = strip_markers(body)[0].casefold()
    return rules["inline"].sub(" ", rules["lines"].sub("\n ", "\n" + body)[1:])


def tokens(text: str, language: str | None = None) -> tuple[list[str], list[str]]:
    """Return the word tokens of case-folded `text` (figures normalised, one spelling) and its figures."""
    blanked = text.translate(_BLANKS)
    if "-" in blanked:
        blanked = _FIGURE_HYPHEN.sub(" ", blanked)
    # A token loses the dots, commas, slashes and hyphens at its ends. Most are a sentence's ". "
    # and ", ": replaced first, they often leave no token to strip, and the split is the tokens.
    blanked = blanked.replace(", ", " ").replace(". ", " ")
    if blanked[:1] in _EDGE_CHARS or blanked[-1:] in _EDGE_CHARS or any(map(blanked.__contains__, _EDGES)):
        words = list(filter(None, map(_STRIP, blanked.split())))
    else:
        words = blanked.split()
    spellings = _spellings(language)
    if not spellings.keys().isdisjoint(words):
        words = list(map(spellings.get, words, words))  # dict.get(w, w), looped in C
    figures = [word for word in words if word < ":"]  # see `_IS_FIGURE`; inline, twice as fast
    distinct_figures = set(figures)
    normals = list(map(_normal_figures.__getitem__, distinct_figures))
    if normals != list(distinct_figures):
        changed = dict(zip(distinct_figures, normals, strict=True))
        words = list(map(changed.get, words, words))
        figures = list(map(changed.get, figures, figures))
    return words, figures


def shingle_hashes(words: Sequence[str]) -> np.ndarray:
    """Return the sorted distinct 32-bit hashes of the word 3-grams of `words` (vectorised)."""
    return distinct(shingle_sequence(words))


def shingle_sequence(words: Sequence[str]) -> np.ndarray:
    """Return the 32-bit hashes of the word 3-grams of `words`, in text order (vectorised).

    The lowest bit of a hash says whether its 3-gram holds a figure (`FIGURE_BIT`), so that
    comparisons can tell copy whose figures agree from a template whose figures differ.
    """
    if not words:
        return np.empty(0, dtype=np.uint32)
    h = np.array(list(map(_token_hashes.__getitem__, words)), dtype=np.uint64)
    if len(h) >= SHINGLE_WORDS:
        # Position-weighted sum of the token hashes, then a 64-bit finaliser: one hash per 3-gram.
        s = h[:-2] * _M1 + h[1:-1] * _M2 + h[2:]
        figure = (h[:-2] | h[1:-1] | h[2:]) & _ONE  # token hashes carry their figure bit
    else:
        s = np.array([int(h.sum(dtype=np.uint64))], dtype=np.uint64)
        figure = np.bitwise_or.reduce(h, keepdims=True) & _ONE
    s ^= s >> _S29
    s *= _M3
    # The high half of s ^ (s >> 32), the finaliser's last step, is the high half of s.
    return (((s >> _S32) & _NOT_FIGURE_BIT) | figure).astype(np.uint32)


def distinct(hashes: np.ndarray) -> np.ndarray:
    """Return `hashes` sorted without repeats (np.unique, without its overhead on short arrays)."""
    ordered = np.sort(hashes)
    if len(ordered) < 2:
        return ordered
    keep = np.empty(len(ordered), dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def consistent_sample(
    hashes: np.ndarray, threshold: int = SAMPLE_CUT, low: int = SAMPLE_MIN, high: int = SAMPLE_MAX
) -> tuple[int, np.ndarray]:
    """Return (cut, every hash <= cut) for sorted distinct `hashes`, with low <= size <= high."""
    n = len(hashes)
    if n <= low:
        return FULL_CUT, hashes
    below = int(np.searchsorted(hashes, threshold))
    keep = min(max(below, low), high)
    if keep == below:
        return threshold - 1, hashes[:keep]
    return int(hashes[keep - 1]), hashes[:keep]


def fingerprint(
    article: Article,
    published_at: str | None,
    place_ids: Sequence[int] = (),
    date_values: Sequence[str] = (),
) -> StoryFingerprint:
    """Return the dedup fingerprint of `article`, published at `published_at` (ISO 8601, or None)."""
    text = prose(article)
    words, figures = tokens(text, article.language)
    sequence = shingle_sequence(words)
    shingles = distinct(sequence)
    cut, sample = consistent_sample(shingles)
    figure_hashes = np.sort(np.fromiter(map(_figure_hashes.__getitem__, set(figures)), dtype=np.uint32))
    number_cut, numbers = consistent_sample(figure_hashes, HASH_SPACE, NUMBERS_MAX, NUMBERS_MAX)
    exact = xxhash.xxh3_64_intdigest(" ".join(words).encode()) >> 1  # 63 bits: any JSON reader copes
    return StoryFingerprint(
        article_id=article.id,
        published_ts=parse_time(published_at),
        language=article.language,
        exact=exact,
        n_shingles=len(shingles),
        cut=cut,
        sample=sample.tolist(),
        n_numbers=len(figure_hashes),
        number_cut=number_cut,
        numbers=numbers.tolist(),
        marker=find_marker(article.headline, article.body),
        # Ids as unsigned 32 bits: GeoNames ids fit, and any other id scheme still compares.
        places=sorted({int(p) & 0xFFFFFFFF for p in place_ids})[:EVIDENCE_MAX],
        dates=sorted({_hash32(d) for d in date_values if d})[:EVIDENCE_MAX],
        lede=sequence[:LEDE].tolist(),
        headline=headline_words(article.headline, article.language),
    )


def headline_words(headline: str | None, language: str | None = None) -> list[int]:
    """Return the smallest `HEADLINE_WORDS` distinct 32-bit hashes of a headline's words, sorted."""
    if not headline:
        return []
    words = tokens(strip_markers(headline)[0].casefold(), language)[0]
    return sorted({_hash32(w) for w in words})[:HEADLINE_WORDS]


def parse_time(value: str | None) -> float | None:
    """Return an ISO 8601 time (naive means UTC; "2023-03" means its first day) as Unix seconds, or None."""
    if not value:
        return None
    text = value.strip()
    for candidate in (text, text + "-01", text + "-01-01"):
        try:
            moment = datetime.fromisoformat(candidate)
        except ValueError:
            continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.timestamp()
    return None


# --- relating two fingerprints -----------------------------------------------------------------


_EMPTY = np.empty(0, dtype=np.uint32)
_EMPTY.flags.writeable = False  # shared by every cache entry without figures, places or dates


def _u32(values: Sequence[int]) -> np.ndarray:
    return np.asarray(values, dtype=np.uint32) if len(values) else _EMPTY


@dataclass(slots=True, frozen=True)
class Sketch:
    """The part of a fingerprint that comparisons need, as numpy arrays (also the index's cache entry)."""

    n_shingles: int
    cut: int
    sample: np.ndarray
    number_cut: int
    numbers: np.ndarray
    marker: str | None = None
    lede: np.ndarray = field(default_factory=lambda: _EMPTY)
    headline: np.ndarray = field(default_factory=lambda: _EMPTY)

    @classmethod
    def of(cls, fp: StoryFingerprint) -> Sketch:
        """Return the sketch of a fingerprint."""
        return cls(
            fp.n_shingles,
            fp.cut,
            _u32(fp.sample),
            fp.number_cut,
            _u32(fp.numbers),
            fp.marker,
            _u32(fp.lede),
            _u32(fp.headline),
        )


@dataclass(slots=True, frozen=True)
class Thresholds:
    """When two texts are one story. Evidence is counted in shingles of the smaller common sample."""

    min_evidence: int = 8  # fewer common-cut shingles than this: too little to link on
    small: int = 16  # below this many: `small_overlap` needed (dividend notices, one-liners)
    medium: int = 24  # below this many: `medium_overlap` needed; above: `overlap`
    large: int = 64  # this many and more: `large_overlap` is enough (several paragraphs agree)
    small_overlap: float = 0.9
    medium_overlap: float = 0.85
    overlap: float = 0.7
    large_overlap: float = 0.6
    strong_overlap: float = 0.9  # texts this alike may differ in figures as a marked update may
    marked_relief: float = 0.15  # less overlap needed when the copy says it is a new version...
    re_top_relief: float = 0.1  # ...or opens with a new lede on old copy
    re_top_figures: int = 2  # figures a new lede may change, however few the story has
    changed_figures: float = 0.15  # share of figures that may differ without a marker saying why
    marked_changed_figures: float = 0.34  # ...and with one ("CORRECTED", "UPDATE 1"), or near-copies
    few_figures: int = 5  # with fewer figures than this, none may change
    figure_shingles: int = 8  # shingles with and without figures needed to see where figures changed
    figure_agreement: float = 0.85  # figure shingles shared at least this much...
    figure_agreement_gap: float = 0.1  # ...and almost as much as the others: a re-topped version
    duplicate_inside: float = 0.9  # share of the new text found in the old one to call it a duplicate
    update_growth: float = 1.05  # ...and is longer by this much: paragraphs added, an update...
    update_added: int = 4  # ...and by this many shingles at least (a word or two is an edit)...
    update_keeps: float = 0.75  # ...if it keeps this share of the old text
    # Copy added to a long story is a small share of it: a text that keeps `duplicate_inside` of
    # the old one and has this many shingles more (a sentence) is an update however long.
    update_sentence: int = 12
    added_figures: int = 2  # figures the old text lacks that make a text keeping it an update
    # Many figures in common, and most of the smaller text's: the same results table or report,
    # reworded or reformatted ("Revs" for "Sales", "12.1 mln" for "12,141,000", a note added).
    # Chance does not share six exact figures; a template filled in again shares few of them.
    agreeing_figures: int = 4  # distinctive figures (see `_figure_hash`) in common...
    figure_share: float = 0.75  # ...making up this share of the smaller text's
    figure_relief: float = 0.3  # ...so this much less overlap is needed...
    least_overlap: float = 0.35  # ...but never less than this, whatever the evidence
    # An unmarked text that holds an older one but is mostly other copy is a digest or round-up
    # quoting it ("MONEY NEWS HIGHLIGHTS"), not a later version: below this resemblance, no link.
    digest_resemblance: float = 0.12
    # A notice shorter than `medium` shingles reads the same for every company ("Qtly div 10 cts
    # vs 10 cts prior, Pay April 30"): who it is about is in the headline. Headlines of one form
    # (some words in common) sharing less than this share of the shorter one's words name
    # someone else: another notice. A headline with no word in common says nothing either way.
    notice_headline_share: float = 0.5


DEFAULT_THRESHOLDS = Thresholds()


def _common(a: np.ndarray, a_cut: int, b: np.ndarray, b_cut: int) -> tuple[int, int, int]:
    """Return (|A ∩ B|, |A|, |B|) over the two samples cut at the lower of their two cuts."""
    if a_cut > b_cut:
        a = a[: int(a.searchsorted(b_cut, side="right"))]
    elif b_cut > a_cut:
        b = b[: int(b.searchsorted(a_cut, side="right"))]
    if not len(a) or not len(b):
        return 0, len(a), len(b)
    # Both are sorted and distinct: the intersection is the repeats of their sorted union.
    both = np.concatenate((a, b))
    both.sort()
    return int(np.count_nonzero(both[1:] == both[:-1])), len(a), len(b)


def _new_lede(new: Sketch, old: Sketch, words_only: bool = False) -> bool:
    """Return whether `new` opens with copy that `old` does not have (a re-topped version).

    None of new's opening shingles may be among old's, and at most a third of those that old's
    sample could show may be in it (a new lede reuses a phrase of the old copy). With
    `words_only`, opening shingles with figures do not count: a template filled in with other
    figures keeps its words, a new lede does not. Two such shingles are enough: a lede of
    figures ("Net 4.2 mln dlrs, up 12 pct, on sales of 310 mln") has few words, and a template
    twin shares every one of them.
    """
    lede = new.lede[(new.lede & FIGURE_BIT) == 0] if words_only else new.lede
    if len(lede) < 2 or not len(old.lede):
        return False
    if not set(lede.tolist()).isdisjoint(old.lede.tolist()):
        return False
    testable = lede[lede <= old.cut]
    sample = old.sample
    if not len(testable) or not len(sample):
        return True
    at = sample.searchsorted(testable).clip(max=len(sample) - 1)
    return int(np.count_nonzero(sample[at] == testable)) * 3 <= len(testable)


def _same_opening(new: Sketch, old: Sketch) -> bool:
    """Return whether both texts open with the same `LEDE` shingles in the same order."""
    return len(new.lede) == LEDE and np.array_equal(new.lede, old.lede)


def _overlap(
    a: np.ndarray, a_cut: int, b: np.ndarray, b_cut: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return the two shingle samples cut at the lower of their cuts, and the hashes they share."""
    if a_cut > b_cut:
        a = a[: int(a.searchsorted(b_cut, side="right"))]
    elif b_cut > a_cut:
        b = b[: int(b.searchsorted(a_cut, side="right"))]
    both = np.concatenate((a, b))
    both.sort()
    return a, b, both[1:][both[1:] == both[:-1]]


def _figure_count(hashes: np.ndarray) -> int:
    return int(np.count_nonzero(hashes & FIGURE_BIT))


def _distinctive(new: Sketch, old: Sketch) -> tuple[int, int, int]:
    """Return (shared, new's, old's) distinctive figures (see `_figure_hash`), cut as `_common` cuts."""
    return _common(
        new.numbers[(new.numbers & FIGURE_BIT) != 0],
        new.number_cut,
        old.numbers[(old.numbers & FIGURE_BIT) != 0],
        old.number_cut,
    )


def _other_subject(new: Sketch, old: Sketch, thresholds: Thresholds) -> bool:
    """Return whether two short notices have headlines of one form that name different subjects."""
    if (
        min(new.n_shingles, old.n_shingles) >= thresholds.medium
        or not len(new.headline)
        or not len(old.headline)
    ):
        return False
    new_cut = int(new.headline[-1]) if len(new.headline) >= HEADLINE_WORDS else FULL_CUT
    old_cut = int(old.headline[-1]) if len(old.headline) >= HEADLINE_WORDS else FULL_CUT
    same, n_new, n_old = _common(new.headline, new_cut, old.headline, old_cut)
    return 0 < same < thresholds.notice_headline_share * min(n_new, n_old)


def relate(
    new: Sketch, old: Sketch, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> tuple[Relation, float, float] | None:
    """Return (relation, similarity, resemblance) when `new` is a version of `old`'s story, else None.

    The relation is "duplicate" or "update". Similarity is the containment of the smaller text in
    the larger (1.0 for a copy, or for a short version found whole inside a long one);
    resemblance is their Jaccard similarity, which ranks several matching versions.

    Figures decide between a story and its template: when both texts have figures the other
    lacks, they are different stories unless few changed (an edit) or the copy is marked as an
    update or correction. Figures are also evidence for: texts that share most of their
    distinctive figures are one story at less overlap (a results table reworded or reformatted).
    """
    new_sample, old_sample, shared = _overlap(new.sample, new.cut, old.sample, old.cut)
    common, n_new, n_old = len(shared), len(new_sample), len(old_sample)
    evidence = min(n_new, n_old)
    if evidence < thresholds.min_evidence and _same_opening(new, old):
        # A few paragraphs cut from a long story: the long one's sample is cut so low that it
        # shows few of the short one's shingles, but the opening, kept whole, is the same.
        evidence += LEDE
    if common == 0 or evidence < thresholds.min_evidence:
        return None
    inside_old = common / n_new  # share of the new text found in the old one
    inside_new = common / n_old
    similarity = max(inside_old, inside_new)
    # The overlap needed depends on how long the smaller text is, not on how much of it the
    # samples hold: a sample of 24 out of 40 shingles estimates the same overlap as all 40.
    size = min(new.n_shingles, old.n_shingles)
    if size < thresholds.medium and _other_subject(new, old, thresholds):
        return None
    if size < thresholds.small:
        needed = thresholds.small_overlap
    elif size < thresholds.medium:
        needed = thresholds.medium_overlap
    elif size < thresholds.large:
        needed = thresholds.overlap
    else:
        needed = thresholds.large_overlap
    marked = new.marker is not None
    if marked:
        needed -= thresholds.marked_relief
    elif (
        needed - thresholds.re_top_relief <= similarity < needed
        and size >= thresholds.medium
        and _new_lede(new, old, words_only=True)
    ):
        needed -= thresholds.re_top_relief  # the old copy under a new opening: re-topped
    needed = max(needed, thresholds.least_overlap)
    if similarity < max(needed - thresholds.figure_relief, thresholds.least_overlap):
        return None  # (before comparing figures: most candidates end here)
    same_figures, new_figures, old_figures = _common(new.numbers, new.number_cut, old.numbers, old.number_cut)
    changed = min(new_figures, old_figures) - same_figures
    same_distinctive, new_distinctive, old_distinctive = (
        _distinctive(new, old) if similarity < needed or changed else (0, 0, 0)
    )
    figures_agree = same_distinctive >= thresholds.agreeing_figures and (
        same_distinctive >= thresholds.figure_share * min(new_distinctive, old_distinctive)
    )
    if similarity < needed and not figures_agree:
        return None
    if changed and not figures_agree:
        # A changed figure is an edit only among several; in a notice with a handful of figures
        # (a dividend, a rate) it is another notice. But when the sentences that carry figures
        # agree as much as the rest, the changed figures sit in new or dropped copy (a re-topped
        # lede with a new toll): a version of the story, not a template filled in again.
        strong = similarity >= thresholds.strong_overlap and size >= thresholds.medium
        allowed = thresholds.marked_changed_figures if marked or strong else thresholds.changed_figures
        figures = max(new_figures, old_figures)
        figures_new, figures_old = _figure_count(new_sample), _figure_count(old_sample)
        common_figures = _figure_count(shared)
        figure_copy = min(figures_new, figures_old)
        word_copy = min(n_new - figures_new, n_old - figures_old)
        agree = min(figure_copy, word_copy) >= thresholds.figure_shingles and (
            common_figures / figure_copy
            >= max(
                thresholds.figure_agreement,
                (common - common_figures) / word_copy - thresholds.figure_agreement_gap,
            )
        )
        # One figure changed in long, otherwise near-identical copy: a correction or a new toll.
        one_edit = strong and size >= thresholds.large and changed == 1
        # A new lede brings its own figures and drops the old one's: a re-topped version.
        # (A new lede brings a figure or two of its own even when the story has only a few.)
        re_topped = changed <= max(
            thresholds.marked_changed_figures * figures, thresholds.re_top_figures
        ) and _new_lede(new, old, words_only=True)
        if not (agree or one_edit or re_topped) and (
            figures < thresholds.few_figures or changed > allowed * figures
        ):
            return None
    resemblance = common / (n_new + n_old - common)
    if not marked and n_new > n_old and resemblance < thresholds.digest_resemblance:
        return None
    if new.marker in ("update", "correction"):
        return "update", similarity, resemblance
    if new.marker == "repeat" and not changed:  # sent again; with a figure changed, corrected
        return "duplicate", similarity, resemblance
    if changed:  # a figure changed: the copy says something new (a toll rises, a result is restated)
        return "update", similarity, resemblance
    if size >= thresholds.medium and _new_lede(new, old):  # old copy under a new opening: re-topped
        return "update", similarity, resemblance  # (a notice's first line differing is an edit)
    if new_figures - same_figures >= thresholds.added_figures and inside_new >= thresholds.update_keeps:
        return "update", similarity, resemblance  # the old copy and new figures: a later version
    grown = max(thresholds.update_growth * old.n_shingles, old.n_shingles + thresholds.update_added)
    added = new.n_shingles >= max(grown, old.n_shingles + thresholds.update_sentence)
    if added and inside_new >= thresholds.duplicate_inside:
        return "update", similarity, resemblance  # the old copy and a paragraph: a long story grew
    if inside_old >= thresholds.duplicate_inside:  # nothing much added: a copy, trimmed or edited
        return "duplicate", similarity, resemblance
    if new.n_shingles >= grown and inside_new >= thresholds.update_keeps:
        return "update", similarity, resemblance  # paragraphs added; a longer rewrite is a duplicate
    return "duplicate", similarity, resemblance  # a rewrite of the same length


# --- the index ---------------------------------------------------------------------------------

_RELATIONS: tuple[Relation, ...] = ("new", "duplicate", "update", "translation")
_MARKER_CODES = (None, *MARKERS)
# Record header: format, relation, marker, lede size; published (s), sequence number,
# exact-text hash; shingle count, cut, figure cut; version; similarity (NaN: none);
# sizes of sample, figures, places, dates; lengths of story id, `of` id, language; (format 2)
# size of headline. Records of format 1, without headline words, are still read.
_HEADER = struct.Struct("<BBBBdQQIIIHfHHHHHHBB")
_HEADER_1 = struct.Struct("<BBBBdQQIIIHfHHHHHHB")
_FORMAT = 2
POST_CUT = HASH_SPACE // 8  # sample hashes below this go into the posting lists...
POST_MIN = 4  # ...and always a text's few smallest, so that short items find each other
CANDIDATES = 4  # candidates scored per article, the ones sharing the most posted shingles
CROWDED = 256  # a posting list this long is a template phrase: too common to find candidates by


@dataclass(slots=True)
class _Entry:
    """One indexed article, as the in-process cache holds it (derived from its state record)."""

    article_id: str
    seq: int
    published_ts: float
    exact: int
    story: str
    version: int
    sketch: Sketch
    language: str | None
    places: np.ndarray
    dates: np.ndarray


def _encode(entry: _Entry, verdict: StoryVerdict) -> bytes:
    """Return the compact state record of an indexed article and its verdict (no JSON: ~2x smaller)."""
    sketch = entry.sketch
    story = b"" if verdict.id == entry.article_id else verdict.id.encode()
    of = (verdict.of or "").encode()
    language = (entry.language or "").encode()[:255]
    similarity = math.nan if verdict.similarity is None else verdict.similarity
    header = _HEADER.pack(
        _FORMAT,
        _RELATIONS.index(verdict.relation),
        _MARKER_CODES.index(sketch.marker),
        len(sketch.lede),
        entry.published_ts,
        entry.seq,
        entry.exact,
        sketch.n_shingles,
        sketch.cut,
        sketch.number_cut,
        verdict.version,
        similarity,
        len(sketch.sample),
        len(sketch.numbers),
        len(entry.places),
        len(entry.dates),
        len(story),
        len(of),
        len(language),
        len(sketch.headline),
    )
    return b"".join(
        (
            header,
            story,
            of,
            language,
            sketch.sample.astype("<u4").tobytes(),
            sketch.numbers.astype("<u4").tobytes(),
            entry.places.astype("<u4").tobytes(),
            entry.dates.astype("<u4").tobytes(),
            sketch.lede.astype("<u4").tobytes(),
            sketch.headline.astype("<u4").tobytes(),
        )
    )


def _decode(article_id: str, record: bytes) -> tuple[_Entry, StoryVerdict]:
    """Return the cache entry and verdict that `_encode` packed into `record`."""
    (
        fmt,
        relation,
        marker,
        n_lede,
        published_ts,
        seq,
        exact,
        n_shingles,
        cut,
        number_cut,
        version,
        similarity,
        n_sample,
        n_numbers,
        n_places,
        n_dates,
        n_story,
        n_of,
        n_language,
        *n_headline,
    ) = (_HEADER if record[0] == _FORMAT else _HEADER_1).unpack_from(record)
    if fmt not in (1, _FORMAT):
        raise ValueError(f"unknown story-index record format {fmt}")
    at = _HEADER.size if fmt == _FORMAT else _HEADER_1.size
    story = record[at : at + n_story].decode() or article_id
    at += n_story
    of = record[at : at + n_of].decode() or None
    at += n_of
    language = record[at : at + n_language].decode() or None
    at += n_language
    arrays = []
    for count in (n_sample, n_numbers, n_places, n_dates, n_lede, *n_headline):
        arrays.append(
            np.frombuffer(record, dtype="<u4", count=count, offset=at).astype(np.uint32) if count else _EMPTY
        )
        at += 4 * count
    sample, numbers, places, dates, lede, *headline = arrays
    sketch = Sketch(
        n_shingles, cut, sample, number_cut, numbers, _MARKER_CODES[marker], lede, *(headline or [_EMPTY])
    )
    entry = _Entry(article_id, seq, published_ts, exact, story, version, sketch, language, places, dates)
    verdict = StoryVerdict(
        id=story,
        relation=_RELATIONS[relation],
        of=of,
        similarity=None if math.isnan(similarity) else round(float(similarity), 3),
        version=version,
    )
    return entry, verdict


def _posted(sketch: Sketch) -> tuple[int, ...]:
    """Return the shingle hashes an article is found by: its sample below `POST_CUT`, at least `POST_MIN`.

    And its opening shingle: a few paragraphs cut from a long story rarely hold one of the long
    story's few posted hashes, but they start as it starts.
    """
    sample = sketch.sample
    below = int(np.searchsorted(sample, POST_CUT))
    posted = sample[: max(below, min(POST_MIN, len(sample)))].tolist()
    if len(sketch.lede) and int(sketch.lede[0]) not in posted:
        posted.append(int(sketch.lede[0]))
    return tuple(posted)


class StoryIndex:
    """Decides each article's relation to the stories published in the window before it.

    All state lives in `state`, a mapping of str to bytes: one record per indexed article under
    `a:<article id>` holding its sketch and its verdict. A dict works; a Faust table (changelog
    backed) makes the index survive a crash. The posting lists, story versions and expiry heap
    are an in-process cache derived from `state` on first use, so the same state and the same
    input give the same verdicts. A replayed article id gets the verdict it got the first time.

    Time is publication time: the index's clock is the latest `published_ts` seen, and articles
    published more than `window_hours` before it expire (their records are deleted), so state
    stays flat over a day. An article without a publication time is placed at the clock.
    """

    PREFIX = "a:"

    def __init__(
        self,
        state: MutableMapping[str, bytes] | None = None,
        window_hours: float = 72,
        *,
        translations: bool = False,
        thresholds: Thresholds = DEFAULT_THRESHOLDS,
    ) -> None:
        self.state: MutableMapping[str, bytes] = {} if state is None else state
        self.window = window_hours * 3600.0
        self.translations = translations
        self.thresholds = thresholds
        self._built = False
        self._entries: dict[int, _Entry] = {}  # by sequence number
        self._postings: dict[int, list[int]] = {}
        self._exact: dict[int, list[int]] = {}
        self._places: dict[int, list[int]] = {}
        # Story id -> how many of its articles in the window carry each version: the next update
        # is one more than the highest still there (the same after a restart as before it).
        self._stories: dict[str, Counter[int]] = {}
        self._expiry: list[tuple[float, int]] = []
        self._clock: float | None = None
        self._next_seq = 0

    def __len__(self) -> int:
        """Return how many articles are indexed (in the window)."""
        self._build()
        return len(self._entries)

    @property
    def clock(self) -> float | None:
        """Return the index's time: the latest publication time seen (Unix seconds), None if empty."""
        self._build()
        return self._clock

    def rebuild(self) -> None:
        """Drop the in-process cache and derive it again from `state` (after a restart or recovery)."""
        self._built = False
        self._build()

    def _build(self) -> None:
        if self._built:
            return
        self._entries.clear()
        self._postings.clear()
        self._exact.clear()
        self._places.clear()
        self._stories.clear()
        self._expiry = []
        self._clock = None
        self._next_seq = 0
        loaded = []
        for key, record in list(self.state.items()):
            if isinstance(key, str) and key.startswith(self.PREFIX):
                entry, verdict = _decode(key[len(self.PREFIX) :], bytes(record))
                loaded.append((entry, verdict))
        # Insertion in sequence order rebuilds posting lists exactly as they grew the first time.
        loaded.sort(key=lambda pair: pair[0].seq)
        for entry, _ in loaded:
            self._add(entry)
        self._built = True

    def _add(self, entry: _Entry) -> None:
        self._entries[entry.seq] = entry
        for key in _posted(entry.sketch):
            self._postings.setdefault(key, []).append(entry.seq)
        self._exact.setdefault(entry.exact, []).append(entry.seq)
        if self.translations:
            for place in entry.places.tolist():
                self._places.setdefault(place, []).append(entry.seq)
        self._stories.setdefault(entry.story, Counter())[entry.version] += 1
        heapq.heappush(self._expiry, (entry.published_ts, entry.seq))
        self._clock = entry.published_ts if self._clock is None else max(self._clock, entry.published_ts)
        self._next_seq = max(self._next_seq, entry.seq + 1)

    def _drop(self, seq: int) -> None:
        entry = self._entries.pop(seq)
        for key in _posted(entry.sketch):
            _remove(self._postings, key, seq)
        _remove(self._exact, entry.exact, seq)
        if self.translations:
            for place in entry.places.tolist():
                _remove(self._places, place, seq)
        versions = self._stories[entry.story]
        versions[entry.version] -= 1
        if not versions[entry.version]:
            del versions[entry.version]
            if not versions:
                del self._stories[entry.story]
        self.state.pop(self.PREFIX + entry.article_id, None)

    def expire(self, now: float) -> int:
        """Drop the articles published before `now` minus the window; return how many went."""
        self._build()
        horizon = now - self.window
        dropped = 0
        while self._expiry and self._expiry[0][0] < horizon:
            _, seq = heapq.heappop(self._expiry)
            if seq in self._entries:
                self._drop(seq)
                dropped += 1
        return dropped

    def check(self, fp: StoryFingerprint) -> StoryVerdict:
        """Return the verdict for the article behind `fp`, indexing it (the same verdict on replay)."""
        self._build()
        key = self.PREFIX + fp.article_id
        seen = self.state.get(key)
        if seen is not None:
            return _decode(fp.article_id, bytes(seen))[1]
        published = fp.published_ts
        if published is None:
            published = 0.0 if self._clock is None else self._clock
        self.expire(max(published, self._clock if self._clock is not None else published))
        sketch = Sketch.of(fp)
        entry = _Entry(
            article_id=fp.article_id,
            seq=self._next_seq,
            published_ts=published,
            exact=fp.exact,
            story=fp.article_id,
            version=1,
            sketch=sketch,
            language=fp.language,
            places=_u32(fp.places),
            dates=_u32(fp.dates),
        )
        verdict = self._decide(entry)
        entry.story, entry.version = verdict.id, verdict.version
        self.state[key] = _encode(entry, verdict)
        self._add(entry)
        return verdict

    def _decide(self, entry: _Entry) -> StoryVerdict:
        best: tuple[float, float, int, Relation] | None = None
        for seq in self._candidates(entry):
            old = self._entries[seq]
            if abs(old.published_ts - entry.published_ts) > self.window:
                continue
            if (
                old.exact == entry.exact
                and entry.sketch.n_shingles
                and not _other_subject(entry.sketch, old.sketch, self.thresholds)
            ):
                marked = entry.sketch.marker in ("update", "correction")
                found: tuple[Relation, float, float] | None = ("update" if marked else "duplicate", 1.0, 1.0)
            else:
                found = relate(entry.sketch, old.sketch, self.thresholds)
            if found is None and self.translations:
                found = relate_translation(entry, old)
            if found is None:
                continue
            relation, similarity, resemblance = found
            # Best match: the closest version (a copy of version 2 is a copy of 2, not of 1);
            # among equals the earliest, the original rather than a copy.
            if (
                best is None
                or (resemblance, similarity) > best[:2]
                or ((resemblance, similarity) == best[:2] and seq < best[2])
            ):
                best = (resemblance, similarity, seq, relation)
        if best is None:
            return StoryVerdict(id=entry.article_id, relation="new", version=1)
        _, similarity, seq, relation = best
        old = self._entries[seq]
        version = max(self._stories[old.story]) + 1 if relation == "update" else old.version
        return StoryVerdict(
            id=old.story,
            relation=relation,
            of=old.article_id,
            similarity=round(similarity, 3),
            version=version,
        )

    def _candidates(self, entry: _Entry) -> list[int]:
        """Return the sequence numbers worth scoring against `entry`: exact copies, then shared shingles."""
        exact = self._exact.get(entry.exact, ())
        postings = self._postings
        # The set intersection runs in C; most of a text's shingles are posted by no one.
        keys = entry.sketch.sample.tolist()
        keys.extend(entry.sketch.lede[:1].tolist())
        found = [postings[key] for key in postings.keys() & keys]
        if self.translations:
            found.extend(seqs for seqs in map(self._places.get, entry.places.tolist()) if seqs)
        hits = Counter(chain.from_iterable(seqs for seqs in found if len(seqs) < CROWDED))
        ranked = heapq.nsmallest(CANDIDATES, hits.items(), key=lambda item: (-item[1], item[0]))
        chosen = list(exact[:CANDIDATES])
        chosen.extend(seq for seq, _ in ranked if seq not in exact)
        return chosen


def _remove(index: dict[int, list[int]], key: int, seq: int) -> None:
    seqs = index.get(key)
    if seqs is None:
        return
    try:
        seqs.remove(seq)
    except ValueError:
        return
    if not seqs:
        del index[key]


# --- translations ------------------------------------------------------------------------------

TRANSLATION_HOURS = 24.0
TRANSLATION_PLACES = 2  # shared GeoNames ids needed...
TRANSLATION_FIGURES = 5  # ...and shared figures...
TRANSLATION_FIGURE_SHARE = 0.8  # ...that are most of the smaller text's figures


def relate_translation(new: _Entry, old: _Entry) -> tuple[Relation, float, float] | None:
    """Return ("translation", similarity, resemblance) if `new` looks like `old` in another language.

    The texts share no words, so only what survives translation counts: the same places (GeoNames
    ids), most of the same figures, the same normalised dates if any, published within a day.
    Same-topic stories from one place on one day share places and dates but rarely most figures,
    which is why figures carry the decision; texts with few figures are never linked.
    """
    if not new.language or not old.language or new.language == old.language:
        return None
    if abs(new.published_ts - old.published_ts) > TRANSLATION_HOURS * 3600:
        return None
    places = len(np.intersect1d(new.places, old.places))
    if places < TRANSLATION_PLACES:
        return None
    same, n_new, n_old = _common(
        new.sketch.numbers, new.sketch.number_cut, old.sketch.numbers, old.sketch.number_cut
    )
    smaller = min(n_new, n_old)
    if same < TRANSLATION_FIGURES or same < TRANSLATION_FIGURE_SHARE * smaller:
        return None
    if len(new.dates) and len(old.dates) and not len(np.intersect1d(new.dates, old.dates)):
        return None
    return "translation", same / smaller, same / (n_new + n_old - same)
