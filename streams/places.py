"""Places stage: toponyms in the body resolved to GeoNames places, and the article's focus.

Spotting: capitalised word runs (with connectors such as "de", "of", "upon") are looked up,
longest first, in the gazetteer's folded-name index, then in its transliteration-skeleton index.
Matches are dropped when they read as ordinary words (per-language stop lists, a lower-case use
elsewhere in the text), as part of a person's or an organisation's name (a capitalised word
right before or after that is not a title or an institution, a firm's "X & Y"), as part of a
street's name ("Memphis Street", "rue de Paris"), or when nothing in the article supports a small
namesake; a preposition of place before a name ("in", "à") lowers the bar. Disambiguation scores
each candidate with population and feature-class priors, then rescores it by the support of the
article's other names (maximum support, in two rounds): the dateline place, the countries,
first-level divisions and counties their plausible readings lie in (a town and its county support
each other), their distance, and explicit qualifiers ("Paris, Texas", "Donetsk Oblast", "région
de Donetsk", "Jackson and Barrow counties").

Language data (stop words, connectors, qualifiers, titles, honorifics, demonyms, given names,
street and institution words, prepositions of place) lives in `data/places/lang/`; every
language's lists apply to every article, because wire copy mixes languages and a stop word of
one language is rarely a place name in another.
"""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from streams import gazetteer as gz
from streams.records import Article, Focus, Mention, Place

log = logging.getLogger(__name__)

LANG_DIR = Path(__file__).parent / "data" / "places" / "lang"

_UPPER = "".join(re.escape(chr(c)) for c in range(0x250) if chr(c).isupper()) + "\u0400-\u042f"
# No leading \b: a pattern that opens with a character class is scanned for that class in C,
# several times faster; the lookbehind after the capital checks the word boundary instead.
_CAP = re.compile(r"[" + _UPPER + r"](?<!\w.)[^\W\d_]*")
_PLAIN_NAME = re.compile(r"[A-Za-z]+(?:(?:[ -]|\. |['.])[A-Za-z]+)*\.?")
_ABBREVIATION = re.compile(r"(?:[A-Z]\.){2,}")
# What follows a dateline place in the body: an optional region ("MANSFIELD, La. —"), a dash.
_DATELINE_AFTER = re.compile(
    r"(?:,[ \t]+[A-Z][\w.]{1,12}\.?)?[ \t]*(?:—|–|--|-[ \t]|\(AP\)|\(AFP\)|\(Reuters\))"
)
_REVERSED_WORD = re.compile(r"([^\w]*)([^\W\d_]+)")
_NEXT_WORD = re.compile(r"([^\w]*)([^\W\d_]+)")
_SENTENCE_CHARS = frozenset('.!?:;"“”«»\n•–—|')
_GENERIC_LAST = frozenset({"city", "state", "county", "town"})
_CITY_WORDS = frozenset({"city", "ville", "town", "village", "township", "commune"})
_MAX_TOKENS = 6
_PRIOR_WINDOW = 3.5
_MAX_CANDIDATES = 25
_MAX_POINTS = 240

_KIND_WEIGHT_FOCUS = {"city": 1.0, "admin2": 0.8, "admin1": 0.7, "region": 0.6, "water": 0.3, "country": 0.4}


@dataclass(frozen=True, slots=True)
class _LangData:
    stopwords: frozenset[str]
    connectors: frozenset[str]
    prefixes: frozenset[str]
    suffixes: dict[str, str]
    titles: frozenset[str]
    honorifics: frozenset[str]
    demonyms: dict[str, str]
    person_verbs: frozenset[str]
    not_places: frozenset[str]
    org_words: frozenset[str]
    articles: frozenset[str]
    modifiers: frozenset[str]
    first_names: frozenset[str]
    prefix_ends: frozenset[str]  # last words of the qualifier prefixes ("de", "of")
    not_surnames: frozenset[str]  # institutions and calendar words: "Huntsville High", "Alexandria Friday"
    street_words: frozenset[str]  # "Memphis Street", "Augusta St.": a street, not the place
    street_prefixes: frozenset[str]  # "rue de Paris", "avenue de Versailles"
    locatives: frozenset[str]  # "in Arlington", "à Paris": the word before reads as a place
    lowercase_common: frozenset[str]  # honorifics that are ordinary words in lower case ("miss")
    abbreviations: dict[str, str]  # folded "tenn" -> "US.TN"
    abbreviation_re: re.Pattern[str] | None
    plural_suffixes: dict[str, str]  # "counties" -> "admin2", as written in running text
    area_words: frozenset[str]  # "eastern Washington", "l'est de Washington": a part of a region
    gap: re.Pattern[str]  # what may stand between two capitalised words of one name


@lru_cache(maxsize=1)
def _lang_data() -> _LangData:
    """Return the language data of every supported language, merged.

    Merged because wire copy mixes languages (an English story quotes "Chassiv Iar" from a
    French dispatch) and a stop word of one language is rarely a place name in another.
    """
    stop: set[str] = set()
    conn: set[str] = set()
    pre: set[str] = set()
    suf: dict[str, str] = {}
    titles: set[str] = set()
    hon: set[str] = set()
    dem: dict[str, str] = {}
    verbs: set[str] = set()
    notp: set[str] = set()
    orgw: set[str] = set()
    arts: set[str] = set()
    mods: set[str] = set()
    first: set[str] = set()
    streets: set[str] = set()
    street_pre: set[str] = set()
    inst: set[str] = set()
    loc: set[str] = set()
    lower_common: set[str] = set()
    for path in sorted(LANG_DIR.glob("*_first_names.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                first.add(gz.fold(line))
    abbr: dict[str, str] = {}
    plural: dict[str, str] = {}
    area: set[str] = set()
    for path in sorted(LANG_DIR.glob("*.json")):
        d = json.loads(path.read_text(encoding="utf-8"))
        stop.update(gz.fold(w) for w in d.get("stopwords", []))
        conn.update(gz.fold(w) for w in d.get("connectors", []))
        pre.update(gz.fold(w) for w in d.get("qualifier_prefixes", []))
        suf.update({gz.fold(k): v for k, v in d.get("qualifier_suffixes", {}).items()})
        titles.update(gz.fold(w) for w in d.get("titles", []))
        hon.update(gz.fold(w) for w in d.get("honorifics", []))
        dem.update({gz.fold(k): v for k, v in d.get("demonyms", {}).items()})
        verbs.update(gz.fold(w) for w in d.get("person_verbs", []))
        notp.update(gz.fold(w) for w in d.get("not_places", []))
        orgw.update(gz.fold(w) for w in d.get("org_words", []))
        arts.update(gz.fold(w) for w in d.get("articles", []))
        mods.update(gz.fold(w) for w in d.get("place_modifiers", []))
        abbr.update({gz.fold(k): v for k, v in d.get("region_abbreviations", {}).items()})
        streets.update(gz.fold(w) for w in d.get("street_words", []))
        plural.update({k.lower(): v for k, v in d.get("plural_qualifier_suffixes", {}).items()})
        area.update(gz.fold(w.replace("'", " ")) for w in d.get("area_words", []))
        street_pre.update(gz.fold(w) for w in d.get("street_prefixes", []))
        inst.update(gz.fold(w) for w in d.get("institutions", []))
        inst.update(gz.fold(w) for w in d.get("calendar_words", []))
        loc.update(w.lower() for w in d.get("locatives", []))  # not folded: French "à" is not "a"
        # As written, not folded: "miss" is a verb, but French "général" stays a title.
        lower_common.update(d.get("honorifics_lowercase_common", []))
    abbr_forms = sorted(
        {
            k
            for p in sorted(LANG_DIR.glob("*.json"))
            for k in json.loads(p.read_text(encoding="utf-8")).get("region_abbreviations", {})
        },
        key=len,
        reverse=True,
    )
    abbr_re = (
        re.compile(r",[ \t]+(" + "|".join(re.escape(a) for a in abbr_forms) + r")(?![^\W\d_])")
        if abbr_forms
        else None
    )
    # Between two capitalised words of one name: spaces, a hyphen, an abbreviation's full stop
    # ("St. Louis"), connectors ("Rostov-on-Don") and elided articles ("Côte d'Ivoire").
    # A single line break too: fixed-width wire copy wraps lines inside names ("New\nJersey").
    sep = r"(?:[ \t\u00a0]+|[ \t]*[-‐][ \t]*|[ \t]*\n[ \t]*)"
    words = "|".join(sorted((re.escape(c) for c in conn if c.isalpha()), key=len, reverse=True))
    gap = re.compile(rf"(?:{sep}|\.[ \t]+)(?:(?:{words})(?:{sep}|['’]))*")
    return _LangData(
        frozenset(stop),
        frozenset(conn),
        frozenset(pre),
        suf,
        frozenset(titles),
        frozenset(hon),
        dem,
        frozenset(verbs),
        frozenset(notp),
        frozenset(orgw),
        frozenset(arts),
        frozenset(mods),
        frozenset(first),
        frozenset(p.split()[-1] for p in pre),
        frozenset(inst),
        frozenset(streets),
        frozenset(street_pre),
        frozenset(loc),
        frozenset(lower_common),
        abbr,
        abbr_re,
        plural,
        frozenset(area),
        gap,
    )


@dataclass(slots=True)
class _Mention:
    start: int
    end: int
    codes: tuple[int, ...]  # place_index * 4 + how
    qualifier: str | None = None  # "admin1", "admin2", "city" from a suffix or prefix
    container: int | None = None  # index of the mention that qualifies it ("Paris, Texas")
    skeleton: bool = False
    single: bool = True
    weak: bool = False  # followed by a capitalised word: part of a longer name?
    alone: bool = False  # no other place in the article to support or contradict it
    dateline: bool = False  # opens a paragraph as a dateline does ("MANSFIELD, La. —")
    before: tuple[str, str, int] | None = None  # the word before, as _word_before returns it
    after: tuple[str, str] | None = None  # the text up to the word after, and that word (_word_after)
    scores: dict[int, float] = field(default_factory=dict)  # context-free
    final: dict[int, float] = field(default_factory=dict)  # after context
    best: int = -1


def _codes(value: int | tuple[int, ...] | None) -> tuple[int, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, int) else value


@lru_cache(maxsize=65536)
def _skeleton_lookup(key: str) -> tuple[int, ...]:
    g = gz.load()
    words = key.split(" ")
    if len(words) > 1 and _word_skeleton(words[0]) not in g.skeleton_heads:
        # No multiword name starts that way; "De Soto" may still be "DeSoto", written as one.
        return _codes(g.names.get("".join(words)))
    # A run of capitalised words is tried at every length, and its words recur: each word's
    # skeleton is computed once.
    return _codes(g.skeletons.get(gz.join_skeletons(map(_word_skeleton, words))))


@lru_cache(maxsize=65536)
def _word_skeleton(word: str) -> str:
    return gz.skeleton(word)


def _lookup(key: str, surface: str, allow_skeleton: bool) -> tuple[tuple[int, ...], bool]:
    """Return the index codes for a folded key, and whether they came from the skeleton index."""
    g = gz.load()
    if key in g.uppercase_only and not surface.replace(".", "").isupper():
        return (), False
    codes = _codes(g.names.get(key))
    if codes:
        return codes, False
    # Transliteration variants are names of some length, never acronyms ("OPEC").
    if allow_skeleton and len(key) >= 6 and not surface.isupper():
        codes = _skeleton_lookup(key)
        if codes:
            return codes, True
    return (), False


def _listed_before_plural(text: str, caps: list[tuple[int, int]], lang: _LangData) -> dict[int, str]:
    """Return {start: qualifier} of the names listed before a plural qualifier.

    "Becker, Clay, Otter Tail and Wilkin counties": each name is a county, as "Wilkin County".
    Plain substring search: a regex scanning the whole text for the words costs ten times more.
    """
    out: dict[int, str] = {}
    ends: dict[int, int] | None = None
    for word, qualifier in lang.plural_suffixes.items():
        q = text.find(word)
        while q > 0:
            after = q + len(word)
            if text[q - 1] == " " and (after == len(text) or not text[after].isalpha()):
                if ends is None:
                    ends = {e: k for k, (_, e) in enumerate(caps)}
                k = ends.get(q - 1)
                if k is not None:
                    _mark_list(text, caps, k, qualifier, out)
            q = text.find(word, after)
    return out


def _mark_list(text: str, caps: list[tuple[int, int]], k: int, qualifier: str, out: dict[int, str]) -> None:
    """Mark the list of names ending with cap token `k` ("Jackson and Barrow") in `out`."""
    item_start = caps[k][0]
    for _ in range(16):  # a list of a dozen counties at most
        if k == 0:
            out[item_start] = qualifier
            return
        gap = text[caps[k - 1][1] : caps[k][0]]
        k -= 1
        if gap == " ":
            item_start = caps[k][0]  # "Otter Tail": the same name
            continue
        out[item_start] = qualifier
        if gap not in _LIST_GAPS:
            return
        item_start = caps[k][0]


_LIST_GAPS = frozenset({", ", " and ", ", and ", " & ", " or ", ", or ", "/", " et ", ", et "})


def _demonym_place(g: gz.Gazetteer, code: str | None) -> int:
    """Return the place a demonym's code names: a country ("FR") or a division ("US.OH"), or -1."""
    if not code:
        return -1
    return g.country_index.get(code, g.admin1_index.get(code, -1))


def _cap_tokens(text: str) -> list[tuple[int, int]]:
    """Return the (start, end) of every capitalised word and capital abbreviation ("U.S.").

    A word runs on through an inner apostrophe ("Pokrovs'k", "O'Fallon") but not through a
    possessive ("Israel's"); checked by hand because a regex doing it is twice as slow.
    """
    spans = [m.span() for m in _CAP.finditer(text)]
    n = len(text)
    out: list[tuple[int, int]] = []
    last = -1
    for s, e in spans:
        if s < last:
            continue  # inside an apostrophe run taken below ("O'Brien")
        if e - s == 1 and e < n and text[e] == ".":
            abbr = _ABBREVIATION.match(text, s)
            if abbr:
                e = abbr.end()
        elif e < n and text[e] in "'’":
            while (
                e + 1 < n
                and text[e] in "'’"
                and text[e + 1].isalpha()
                and not (text[e + 1] in "sS" and (e + 2 >= n or not text[e + 2].isalpha()))
            ):
                e += 1
                while e < n and text[e].isalpha():
                    e += 1
        out.append((s, e))
        last = e
    return out


@lru_cache(maxsize=200000)
def _fold_fast(raw: str) -> str:
    """Return gz.fold(raw), taking a shortcut for plain ASCII words and names."""
    if raw.isascii():
        if raw.isalpha():
            return raw.lower()
        if _PLAIN_NAME.fullmatch(raw):
            return raw.lower().replace(".", "").replace("'", "").replace("-", " ")
    return gz.fold(raw)


def _word_before(text: str, s: int) -> tuple[str, str, int]:
    """Return the word before offset `s` (as written), the text between, and the word's start."""
    lo = max(0, s - 40)
    # Matched on the reversed window: a regex anchored at the end would try every position.
    m = _REVERSED_WORD.match(text[lo:s][::-1])
    if not m:
        return "", text[lo:s], -1
    gap_len, word_len = len(m.group(1)), len(m.group(2))
    start = s - gap_len - word_len
    return text[start : s - gap_len], text[s - gap_len : s], start


def _word_after(text: str, e: int) -> tuple[str, str]:
    """Return the text after offset `e` up to the next word, and that word (as written)."""
    m = _NEXT_WORD.match(text, e, min(len(text), e + 40))
    if not m:
        return "", ""
    return m.group(1), m.group(2)


def _is_dateline(text: str, s: int, e: int) -> bool:
    """Return whether text[s:e] opens a paragraph as a dateline does.

    "MANSFIELD, La. —", "LONDON (Reuters) -", and, in capitals, "BEIRUT: " (French "BEYROUTH : ")
    as many Asian and Middle Eastern papers write it.
    """
    if not _starts_sentence(text, s):
        return False
    if _DATELINE_AFTER.match(text, e):
        return True
    return text.startswith((": ", " : "), e) and text[s:e].isupper()


def _starts_sentence(text: str, s: int) -> bool:
    """Return whether offset `s` opens a sentence, a line or the text."""
    k = s - 1
    while k >= 0 and text[k] in " \t\u00a0([":
        k -= 1
    return k < 0 or text[k] in _SENTENCE_CHARS


def _spot(text: str, skip: list[tuple[int, int]]) -> list[_Mention]:
    """Return the toponym candidates found in `text`, outside the `skip` spans."""
    lang = _lang_data()
    g = gz.load()
    caps = _cap_tokens(text)
    n = len(caps)
    mentions: list[_Mention] = []
    # "Paris, Tenn.": a region abbreviation right after a comma.
    abbrs: list[_Mention] = []
    if lang.abbreviation_re is not None:
        for am in lang.abbreviation_re.finditer(text):
            code = lang.abbreviations.get(_fold_fast(am.group(1)))
            a1 = g.admin1_index.get(code or "")
            if a1 is not None:
                abbrs.append(
                    _Mention(am.start(1), am.end(1), (a1 * 4 + gz.NAME_ALTERNATE,), qualifier="admin")
                )
    taken = {k for am in abbrs for k in range(am.start, am.end)}
    listed = _listed_before_plural(text, caps, lang) if lang.plural_suffixes else {}
    names, uppercase_only, name_heads = g.names, g.uppercase_only, g.name_heads
    stopwords, not_places, demonyms, articles = lang.stopwords, lang.not_places, lang.demonyms, lang.articles
    # joined[j]: caps[j - 1] and caps[j] may belong to one name, joined by spaces, hyphens or
    # connectors ("Rostov-on-Don"); a gap longer than any run of connectors never joins.
    joined = [False] * n
    for j in range(1, n):
        gs, ge = caps[j - 1][1], caps[j][0]
        joined[j] = (ge - gs == 1 and text[gs] == " ") or (
            ge - gs <= 16 and bool(lang.gap.fullmatch(text, gs, ge))
        )
    # An ASCII text's capitalised words fold by lower-casing: one call for the whole text.
    lower = text.lower() if text.isascii() else None
    i = 0
    while i < n:
        s, e = caps[i]
        if (skip and any(a <= s < b for a, b in skip)) or s in taken:
            i += 1
            continue
        # Longest run first.
        ends = [i]
        j = i + 1
        last = i + _MAX_TOKENS if i + _MAX_TOKENS < n else n
        while j < last and joined[j]:
            ends.append(j)
            j += 1
        found: tuple[int, tuple[int, ...], bool] | None = None
        first = lower[s:e] if lower is not None else ""
        if not first.isalpha():
            first = _fold_fast(text[s:e])
        dem = _demonym_place(g, demonyms[first]) if len(ends) == 1 and first in demonyms else -1
        if dem >= 0:
            mentions.append(_Mention(s, e, (dem * 4 + gz.NAME_DEMONYM,)))
            i += 1
            continue
        # Whether a multiword name, or a multiword transliteration, may start with this word:
        # most runs of capitalised words (titles, organisations) are neither.
        multi = len(ends) > 1 and first in name_heads
        multi_skeleton: bool | None = None
        for j in reversed(ends):
            single = j == i
            if not single and not multi and j - i > 1:
                if multi_skeleton is None:
                    multi_skeleton = _word_skeleton(first) in g.skeleton_heads
                if not multi_skeleton:
                    continue
            surface = text[s : caps[j][1]]
            key = first if single else _fold_fast(surface)
            if key in stopwords or key in not_places:
                continue
            hit = names.get(key) if single or multi else None
            if hit is not None:
                if key in uppercase_only and not surface.replace(".", "").isupper():
                    continue
                codes, via_skeleton = (hit,) if isinstance(hit, int) else hit, False
            elif len(key) < 6 or surface.isupper():
                continue  # not a name, and too short or too acronym-like for a transliteration
            else:
                codes, via_skeleton = _skeleton_lookup(key), True
            # "Les Russes", "The Times": an article before a word only names a known place
            # ("Le Mans", "The Hague", "Los Angeles").
            if codes and not single and first in articles and not (_is_big(codes) or _is_town(codes)):
                continue
            # "Dublin City Council", "Ohio State University": an alternate name ending in a
            # generic word is the place's name plus an organisation's, not a name of its own.
            if (
                codes
                and not single
                and key.rsplit(" ", 1)[-1] in _GENERIC_LAST
                and all(c & 3 != gz.NAME_PRIMARY for c in codes)
            ):
                continue
            if codes:
                found = (j, codes, via_skeleton)
                break
        if found is None:
            i += 1
            continue
        j, codes, via_skeleton = found
        m = _Mention(s, caps[j][1], codes, skeleton=via_skeleton, single=j == i)
        if any(c & 3 != gz.NAME_DEMONYM for c in codes):
            # A qualifier after the name: "Donetsk Oblast", "Donetsk region", "Laurel County".
            gap, word = _word_after(text, m.end)
            q = lang.suffixes.get(_fold_fast(word)) if gap in (" ", "\u00a0", "-") else None
            if q in ("city", "admin1") and word[:1].isupper() and _fold_fast(word) in _GENERIC_LAST:
                q = None  # "Ohio State University", "Dublin City Council": an organisation follows
            m.after = (gap, word)
            if q:
                m.qualifier = q
                if word[:1].isupper() and q != "city":
                    # "Laurel County", "Donetsk Oblast" are the names; "Dublin City Council" is not.
                    m.end += len(gap) + len(word)
                    m.after = None
                    if j + 1 < n and caps[j + 1][0] < m.end:
                        j += 1
            # ... or before it: "région de Donetsk", "state of Texas".
            m.before = _word_before(text, s)
            prev_word = m.before[0]
            # Elided articles split off ("l'État de Washington" reads "l etat de").
            words = (
                gz.fold(text[max(0, s - 30) : s].replace("'", " ").replace("’", " ")).split()
                if prev_word and _fold_fast(prev_word) in lang.prefix_ends
                else []
            )
            for width in (1, 2, 3):
                pre = " ".join(words[-width:])
                if len(words) >= width and pre in lang.prefixes:
                    m.qualifier = m.qualifier or ("city" if words[-width] in _CITY_WORDS else "admin")
                    break
                if len(words) >= width and pre in lang.area_words and not m.qualifier:
                    m.qualifier = "area"  # "l'est de Washington"
                    break
            if not m.qualifier and m.before[1] == " " and prev_word in lang.area_words:
                # "eastern Washington", "southern Illinois": a part of a region more often than
                # of a town (the state, not the capital).
                m.qualifier = "area"
        if not m.qualifier and s in listed:
            m.qualifier = listed[s]  # "Jackson and Barrow counties"
        if not m.qualifier or m.qualifier == "area":
            # A county's bare base name ("Scott" for Scott County) is a place only when qualified.
            m.codes = _unqualified(m.codes)
        if m.codes:
            mentions.append(m)
        i = j + 1
    if abbrs:
        mentions = sorted(mentions + abbrs, key=lambda x: x.start)
    for m in mentions:
        if _is_dateline(text, m.start, m.end):
            m.dateline = True
    verdicts = [_verdict(text, m) for m in mentions]
    persons = {text[m.start : m.end] for m, v in zip(mentions, verdicts, strict=True) if v == _PERSON}
    # A name once read as a person's is a person's throughout ("Robert Douglas ... Douglas said"),
    # except where a preposition of place stands before it ("in Arlington", "à Paris").
    return [
        m
        for m, v in zip(mentions, verdicts, strict=True)
        if v == _KEEP
        and not (
            m.single
            and text[m.start : m.end] in persons
            and not _is_region(m.codes)
            and not _after_locative(m, lang)
        )
    ]


def _after_locative(m: _Mention, lang: _LangData) -> bool:
    """Return whether a preposition of place ("in", "near", "à") stands right before the name."""
    if m.before is None:
        return False
    prev, gap, _ = m.before
    return gap in (" ", "\u00a0", "'", "’") and prev.lower() in lang.locatives


_KEEP, _DROP, _PERSON = 0, 1, 2


@lru_cache(maxsize=65536)
def _unqualified(codes: tuple[int, ...]) -> tuple[int, ...]:
    """Return the candidates an unqualified name may have: no county by its bare base name."""
    g = gz.load()
    return tuple(c for c in codes if c & 3 != gz.NAME_BASE or g.kind[c >> 2] != 2)


def _has_lowercase_use(text: str, word: str) -> bool:
    """Return whether `word` also occurs in lower case in `text` ("mobile", "reading")."""
    low = word.lower()
    if low == word:
        return False
    k = text.find(low)
    while k >= 0:
        end = k + len(low)
        if (k == 0 or not text[k - 1].isalpha()) and (end == len(text) or not text[end].isalpha()):
            return True
        k = text.find(low, k + 1)
    return False


@lru_cache(maxsize=65536)
def _is_big(codes: tuple[int, ...]) -> bool:
    """Return whether a candidate is a country, first-level division, region or a city of 100,000."""
    g = gz.load()
    return any(
        c & 3 != gz.NAME_BASE and (g.kind[c >> 2] in (1, 3, 4, 5, 6) or g.population[c >> 2] >= 100000)
        for c in codes
    )


def _on_street(text: str, m: _Mention, lang: _LangData) -> bool:
    """Return whether the name is part of a street's name ("Memphis St.", "rue de Paris")."""
    gap, nxt = m.after or _word_after(text, m.end)
    if gap in (" ", "\u00a0") and nxt[:1].isupper() and _fold_fast(nxt) in lang.street_words:
        # "Douglas County Road 4" still names the county.
        return _fold_fast(text[m.start : m.end]).rsplit(" ", 1)[-1] not in lang.suffixes
    prev, gap, prev_start = m.before or _word_before(text, m.start)
    p_f = _fold_fast(prev) if prev else ""
    if p_f in lang.street_prefixes and gap == " ":
        return True
    if p_f in lang.prefix_ends and gap in (" ", "'", "’") and prev_start > 0:
        before = _word_before(text, prev_start)[0]
        return bool(before) and _fold_fast(before) in lang.street_prefixes
    return False


def _bare_postal_code(text: str, m: _Mention) -> bool:
    """Return whether the name is a two-letter division code not qualifying a place before it.

    "Paris, TX" and a dateline's "AUSTIN, TX" are Texas; "KY 90", "CRIME-SC", "10:22 AM CT" and
    a company's "NV" are not.
    """
    if m.end - m.start != 2 or not text[m.start : m.end].isupper():
        return False
    g = gz.load()
    if not all(g.kind[c >> 2] == 1 for c in m.codes):
        return False
    prev, gap, _ = m.before or _word_before(text, m.start)
    return not (gap == ", " and prev[:1].isupper())


def _verdict(text: str, m: _Mention) -> int:
    """Return whether a spotted name reads as a place (_KEEP), a word (_DROP) or a person (_PERSON)."""
    lang = _lang_data()
    if (m.qualifier and m.qualifier != "area") or all(c & 3 == gz.NAME_DEMONYM for c in m.codes):
        return _KEEP
    if _on_street(text, m, lang):
        return _DROP
    if _bare_postal_code(text, m):
        return _DROP
    surface = text[m.start : m.end]
    big = _is_big(m.codes)
    if m.single and len(surface) > 3 and surface.isupper() and not m.dateline and not _is_region(m.codes):
        # "NICE", "OPEC": an acronym more often than a town, unless the article supports it.
        m.weak = True
    if m.single and not big and _has_lowercase_use(text, surface):
        return _DROP
    prev, gap, prev_start = m.before or _word_before(text, m.start)
    if prev:
        p_f = _fold_fast(prev)
        if (
            p_f in lang.honorifics
            and prev not in lang.lowercase_common
            and (gap.strip() == "" or (gap.strip() == "." and len(prev) <= 4))
        ):
            # "Mr. Paris", "Gen. Lee", "President Lincoln"; not "... Court Judge. Columbus".
            return _PERSON
        if (
            m.single
            and prev[0].isupper()
            and ((p_f in lang.first_names and gap in (" ", "\u00a0")) or (len(prev) == 1 and gap == ". "))
        ):
            # "Scott Jones", "Matthew D. Flores": a given name or a middle initial before it.
            return _PERSON
        if (
            gap in (" ", "\u00a0")
            and prev[0].isupper()
            and not _starts_sentence(text, prev_start)
            and p_f not in lang.connectors
            and p_f not in lang.titles
            and not _is_demonym(p_f)
            and p_f not in lang.modifiers
            and not _title_case(text, m.start)
        ):
            # "Denzel Washington", "Avril Haines": a capitalised word before the name.
            return _PERSON if m.single else _DROP
    if m.single:
        gap, nxt = m.after or _word_after(text, m.end)
        n_f = _fold_fast(nxt) if nxt else ""
        if (
            gap in (" ", "\u00a0")
            and nxt[:1].isupper()
            and _fold_fast(surface) in lang.first_names
            and n_f not in lang.titles
            and n_f not in lang.not_surnames
            and n_f not in lang.org_words
            and not _is_place_word(n_f, cities=False)
            and not _title_case(text, m.start)
        ):
            # "Scott Wheatley", "Georgia Smith", "Jordan Henderson": a given name before a
            # capitalised word, even one that is also a city's name (many surnames are).
            return _DROP
        if not big and gap in (" ", "\u00a0", ", ") and n_f in lang.person_verbs:
            # "Jones said", "Moore, who".
            return _PERSON
        if (
            (gap == " & " and nxt[:1].isupper())
            or (m.before and m.before[1] == " & " and m.before[0][:1].isupper())
        ) and not _is_region(m.codes):
            # "Stevens & Wilkinson", "McPherson & Jacobsen": a firm of partners' names.
            return _DROP
        if gap in (" ", "\u00a0") and n_f in lang.org_words:
            # "Washington Post", "Wagner Group", "Kyiv Independent".
            return _DROP
        if (
            not _is_region(m.codes)
            and gap in (" ", "\u00a0")
            and nxt[:1].isupper()
            and n_f not in lang.titles
            and n_f not in lang.not_surnames
            and not _is_place_word(n_f)
            and not _title_case(text, m.start)
        ):
            # "Wagner Group", "Paris Hilton", but also "Paris Public Library": such a name
            # stays only if the article supports the place (see MIN_SCORE and WEAK_PENALTY).
            m.weak = True
        if _starts_sentence(text, m.start) and not (big or _is_town(m.codes)):
            # A sentence-initial word must be a known place to count on its own.
            return _DROP
    return _KEEP


def _title_case(text: str, pos: int) -> bool:
    """Return whether the line or sentence around `pos` is a title-cased headline."""
    # Within 200 characters either way: a headline is short, and the bound keeps this cheap.
    start, stop = max(0, pos - 200), min(len(text), pos + 200)
    lo = max(text.rfind(". ", start, pos), text.rfind("\n", start, pos))
    if lo < 0 and start > 0:
        return False  # no sentence start within reach: not a headline
    hi_candidates = [k for k in (text.find(". ", pos, stop), text.find("\n", pos, stop)) if k >= 0]
    if not hi_candidates and stop < len(text):
        return False
    return _title_case_span(text, max(lo, 0), min(hi_candidates) if hi_candidates else stop)


@lru_cache(maxsize=1024)
def _title_case_span(text: str, lo: int, hi: int) -> bool:
    """Return whether every longer word of text[lo:hi] is capitalised (cached per sentence).

    Every one: a sentence naming several people and places ("Vladimir Poutine a reçu Xi Jinping au
    Kremlin") has most of its longer words capitalised and is still no headline.
    """
    words = [w for w in text[lo:hi].split() if len(w) >= 4 and w[0].isalpha()]
    if len(words) < 3:
        return False
    return all(w[0].isupper() for w in words)


@lru_cache(maxsize=65536)
def _is_region(codes: tuple[int, ...]) -> bool:
    """Return whether a candidate is a country, first-level division, continent or region."""
    g = gz.load()
    return any(c & 3 != gz.NAME_BASE and g.kind[c >> 2] in (1, 3, 4, 5, 6) for c in codes)


@lru_cache(maxsize=65536)
def _is_town(codes: tuple[int, ...]) -> bool:
    g = gz.load()
    return any(g.population[c >> 2] >= 20000 for c in codes)


@lru_cache(maxsize=8192)
def _is_demonym(folded: str) -> bool:
    """Return whether a folded word names a people ("Ukrainian", "Russes")."""
    g = gz.load()
    if folded in _lang_data().demonyms:
        return True
    return any(c & 3 == gz.NAME_DEMONYM for c in _codes(g.names.get(folded)))


@lru_cache(maxsize=8192)
def _is_place_word(folded: str, cities: bool = True) -> bool:
    """Return whether a single folded word is a country, division or (if `cities`) a city of 100,000."""
    g = gz.load()
    for c in _codes(g.names.get(folded)):
        if c & 3 == gz.NAME_BASE:
            continue
        if c & 3 == gz.NAME_DEMONYM or g.kind[c >> 2] >= 1 or (cities and g.population[c >> 2] >= 100000):
            return True
    return False


def _prior(g: gz.Gazetteer, code: int, m: _Mention) -> float:
    """Return the context-free score of one candidate: feature class, population, name quality."""
    p, how = code >> 2, code & 3
    kind = gz.KINDS[g.kind[p]]
    pop = float(g.population[p])
    if kind == "country":
        s = _COUNTRY_PRIOR + 0.05 * math.log10(pop + 1)
    elif kind == "continent":
        s = 2.8
    elif kind in ("region", "water"):
        s = 2.2
    elif kind == "admin1":
        s = 1.2 + 0.15 * math.log10(pop + 1)
    elif kind == "admin2":
        s = 1.6 if how == gz.NAME_PRIMARY and not m.single else 0.6
    else:
        s = 0.28 * math.log10(pop + 10) + (_CAPITAL_BONUS if g.capital[p] else 0.0)
    if how == gz.NAME_ALTERNATE:
        s -= 0.3
    elif how == gz.NAME_BASE:
        s -= 0.4
    if m.skeleton:
        s -= 0.3
    if m.qualifier == "area":
        if kind in ("admin1", "country", "region"):
            s += _AREA_BONUS
    elif m.qualifier:
        want = m.qualifier
        if (want == "admin" and kind in ("admin1", "admin2")) or want == kind:
            s += 2.0
        elif kind == "city" and want != "city":
            s -= 1.0
    return s


def _qualified_codes(g: gz.Gazetteer, m: _Mention) -> tuple[int, ...]:
    """Return the candidates of a qualified mention, mapping cities to their division if needed."""
    if not m.qualifier or m.qualifier in ("city", "area"):
        return m.codes
    admins = [c for c in m.codes if gz.KINDS[g.kind[c >> 2]] in ("admin1", "admin2")]
    if admins:
        return tuple(admins)
    # "région de Zaporijia": the name is the division's seat; take the seat's division.
    out = []
    for c in m.codes:
        a1 = g.admin1_index.get(g.admin1[c >> 2])
        if a1 is not None:
            out.append(a1 * 4 + gz.NAME_BASE)
    return tuple(dict.fromkeys(out)) or m.codes


@lru_cache(maxsize=32768)
def _priors(
    codes: tuple[int, ...], qualifier: str | None, skeleton: bool, single: bool
) -> tuple[tuple[int, float], ...]:
    """Return the context-free scores of a mention's best candidates, cached across articles."""
    g = gz.load()
    probe = _Mention(0, 0, codes, qualifier=qualifier, skeleton=skeleton, single=single)
    # A division that shares its name with a big city in or beside it yields to the city
    # unless qualified ("Kharkiv" is the city, "Kharkiv Oblast" the division).
    # Only a city that bears the name as its own main name counts: "New York" is the state's
    # main name but only an alternate of New York City's.
    cities = [
        c >> 2
        for c in codes
        if g.kind[c >> 2] == 0 and g.population[c >> 2] >= 20000 and c & 3 == gz.NAME_PRIMARY
    ]
    has_primary = any(c & 3 == gz.NAME_PRIMARY and g.kind[c >> 2] == 0 for c in codes)
    scores: dict[int, float] = {}
    for c in codes:
        s = _prior(g, c, probe)
        if len(codes) == 1 and c & 3 == gz.NAME_ALTERNATE and g.population[c >> 2] >= 100000:
            # A city's foreign name ("Charkiw") is only a worse reading when there is a better one.
            s += 0.3
        if has_primary and c & 3 == gz.NAME_ALTERNATE and g.kind[c >> 2] == 0:
            # "Maryville" is a former name of Beeville but the main name of four towns.
            s -= 0.5
        p = c >> 2
        if cities and not qualifier and g.kind[p] in (1, 2):
            near = any(
                g.country[q] == g.country[p]
                and (
                    g.admin1[q] == g.admin1[p]
                    or _near_km(float(g.lat[p]), float(g.lon[p]), float(g.lat[q]), float(g.lon[q])) < 300
                )
                for q in cities
            )
            if near:
                s -= 1.5
        scores[c] = s
    # Context can lift a candidate by a few points at most: the rest never win. (On LGL a window
    # of 3 points changes no answer, one of 2 points does; the window is wider than both.)
    top = sorted(scores.items(), key=lambda kv: kv[1], reverse=True)[:_MAX_CANDIDATES]
    top = [kv for kv in top if kv[1] >= top[0][1] - _PRIOR_WINDOW] if top else top
    return tuple(top)


@dataclass(slots=True)
class _Group:
    """The mentions of one name (same candidates, qualifier and container): scored together."""

    members: list[_Mention]
    scores: dict[int, float]
    weight: float
    countries: dict[str, float]  # country -> probability that the name lies in it
    admins: dict[str, float]  # first-level division -> probability
    counties: dict[int, float]  # second-level division (its row) -> probability: it, or a town in it
    points: list[tuple[float, float]]


# Candidates within this many points of a name's best score are readings the name may have;
# each lends support to the other names in proportion to its probability (softmax at _TEMP).
_WINDOW = 1.5
_TEMP = 0.6
_COUNTRY_WEIGHT = 1.8
_COUNTRY_PRIOR = 3.0
_CAPITAL_BONUS = 1.0
_ADMIN_WEIGHT = 1.2
_COUNTY_WEIGHT = 1.5
_NEAR_BONUS = 0.6
_AREA_BONUS = 1.0


def _group(
    g: gz.Gazetteer,
    members: list[_Mention],
    scores: dict[int, float],
    weight: float,
    support: _Support | None = None,
) -> _Group:
    countries, admins, counties, points, small = support or _support(g, scores)
    if small:
        weight *= 0.5  # small towns are the likeliest wrong namesakes: they vote softly
    return _Group(members, scores, weight, countries, admins, counties, points)


# Where a name's plausible readings lie: countries, divisions and counties with their
# probabilities, up to eight town points, and whether every reading is a small town.
_Support = tuple[dict[str, float], dict[str, float], dict[int, float], list[tuple[float, float]], bool]


_PriorKey = tuple[tuple[int, ...], str | None, bool, bool]  # what _priors is called with


@lru_cache(maxsize=32768)
def _prior_support(key: _PriorKey) -> _Support:
    """Return the support of a name as its priors alone read it, cached across articles (read only)."""
    return _support(gz.load(), dict(_priors(*key)))


@lru_cache(maxsize=8192)
def _dateline_support(codes: tuple[int, ...], skeleton: bool) -> tuple[dict[int, float], _Support]:
    """Return a dateline place's scores by its priors alone, and its support (read only)."""
    g = gz.load()
    probe = _Mention(0, 0, codes, skeleton=skeleton)
    scores = {c: _prior(g, c, probe) for c in codes}
    return scores, _support(g, scores)


def _support(g: gz.Gazetteer, scores: dict[int, float]) -> _Support:
    best = max(scores.values())
    plausible = [(c, math.exp((v - best) / _TEMP)) for c, v in scores.items() if v >= best - _WINDOW]
    z = sum(w for _, w in plausible)
    countries: dict[str, float] = {}
    admins: dict[str, float] = {}
    counties: dict[int, float] = {}
    points: list[tuple[float, float]] = []
    small = True
    for c, w in sorted(plausible, key=lambda cw: -cw[1]):
        p, prob = c >> 2, w / z
        kind = g.kind[p]
        cc = g.country[p]
        if cc:
            countries[cc] = countries.get(cc, 0.0) + prob
        if kind in (0, 1, 2) and g.admin1[p]:
            admins[g.admin1[p]] = admins.get(g.admin1[p], 0.0) + prob
        county = p if kind == 2 else g.county[p] if kind == 0 else -1
        if county >= 0:
            counties[county] = counties.get(county, 0.0) + prob
        if kind in (0, 2) and len(points) < 8:
            points.append((float(g.lat[p]), float(g.lon[p])))
        small = small and kind == 0 and g.population[p] < 20000
    return countries, admins, counties, points, small


def _disambiguate(text: str, mentions: list[_Mention], dateline: _Mention | None) -> None:
    """Choose each mention's place in place: priors, then support from the article's other names.

    Every other name supports a candidate in proportion to the probability that it lies in the
    same country or first-level division, or within 161 km; a second round uses the scores of
    the first ("Athens" beside "Clarke County" is the Georgia pair).
    """
    g = gz.load()
    # Containers: "Paris, Texas", "Kostiantynivka (Donetsk)".
    for k in range(len(mentions) - 1):
        a, b = mentions[k], mentions[k + 1]
        gap = text[a.end : b.start]
        if gap in (", ", " (", ", in ", ","):
            kinds = {g.kind[c >> 2] for c in b.codes}
            if kinds & {1, 2, 3}:
                a.container = k + 1
    by_key: dict[_PriorKey, list[_Mention]] = {}
    shared: dict[_PriorKey, dict[int, float]] = {}
    for m in mentions:
        if m.qualifier:
            m.codes = _qualified_codes(g, m)
        key = (m.codes, m.qualifier, m.skeleton, m.single)
        scores = shared.get(key)
        if scores is None:
            scores = shared[key] = dict(_priors(*key))
        m.scores = scores  # mentions of one name share one dict: it is only read from here on
        m.best = -1
        if scores:
            by_key.setdefault(key, []).append(m)
    keys = list(by_key.values())
    supports = [_prior_support(key) for key in by_key]
    index = {id(m): k for k, ms in enumerate(keys) for m in ms}
    containers: dict[int, int] = {}
    for m in mentions:
        if m.container is not None and id(m) in index and id(mentions[m.container]) in index:
            containers[index[id(m)]] = index[id(mentions[m.container])]
    extra: list[_Group] = []
    if dateline is not None and dateline.codes:
        scores, support = _dateline_support(dateline.codes, dateline.skeleton)
        dateline.scores = dict(scores)
        dateline.best = max(dateline.scores, key=dateline.scores.__getitem__)
        extra.append(_group(g, [dateline], dateline.scores, 3.0, support))
    weights = [3.0 if any(m.dateline for m in ms) else 1.0 for ms in keys]
    own = [_group(g, ms, ms[0].scores, weights[k], supports[k]) for k, ms in enumerate(keys)]
    active = list(own)
    results: list[tuple[int, dict[int, float]]] = []
    for round_ in range(_ROUNDS):
        ctx = _Context(active + extra)
        if round_ == 1:
            # Only names with a choice to make are heard again; the others keep their score.
            results = [
                _score_group(g, ms[0].scores, ms, ctx, own[containers[k]] if k in containers else None)
                if len(ms[0].scores) > 1
                else results[k]
                for k, ms in enumerate(keys)
            ]
            break
        results = [
            _score_group(g, ms[0].scores, ms, ctx, own[containers[k]] if k in containers else None)
            for k, ms in enumerate(keys)
        ]
        if round_ == 0:
            # The second round hears each name as the first round scored it, and no longer
            # hears the names the first round found implausible ("Wagner" as a town).
            own = [
                _group(g, ms, results[k][1], weights[k]) if len(results[k][1]) > 1 else own[k]
                for k, ms in enumerate(keys)
            ]
            active = [
                own[k]
                for k, ms in enumerate(keys)
                if max(results[k][1].values())
                >= MIN_SCORE - 0.5 + (WEAK_PENALTY if all(m.weak for m in ms) else 0.0)
            ]
    heard = {id(v.members) for v in active + extra}
    n_heard = len(heard)
    for ms, (best, final) in zip(keys, results, strict=True):
        alone = n_heard - (id(ms) in heard) == 0
        for m in ms:
            m.best, m.final, m.alone = best, final, alone


class _Context:
    """The support every voting name lends, summed once per round (each name then subtracts its own)."""

    __slots__ = ("admins", "counties", "countries", "index", "points", "spans", "total", "voters")

    def __init__(self, voters: list[_Group]) -> None:
        self.voters = voters
        self.countries: dict[str, float] = {}
        self.admins: dict[str, float] = {}
        self.counties: dict[int, float] = {}
        self.total = 0.0
        self.points: list[tuple[float, float]] = []
        self.spans: list[tuple[int, int]] = []  # each voter's slice of `points`
        self.index = {id(v.members): k for k, v in enumerate(voters)}
        for v in voters:
            if v.countries:
                self.total += v.weight
            for cc, prob in v.countries.items():
                self.countries[cc] = self.countries.get(cc, 0.0) + v.weight * prob
            for a1, prob in v.admins.items():
                self.admins[a1] = self.admins.get(a1, 0.0) + v.weight * prob
            for a2, prob in v.counties.items():
                self.counties[a2] = self.counties.get(a2, 0.0) + v.weight * prob
            start = len(self.points)
            if start < _MAX_POINTS:
                # Enough for any real article; bounds the work on a list of a thousand towns.
                self.points.extend(v.points)
            self.spans.append((start, len(self.points)))


def _score_group(
    g: gz.Gazetteer,
    priors: dict[int, float],
    members: list[_Mention],
    ctx: _Context,
    container: _Group | None,
) -> tuple[int, dict[int, float]]:
    """Return the best candidate of a group and every candidate's score in context."""
    me = ctx.index.get(id(members), -1)
    own = ctx.voters[me] if me >= 0 else None
    total = ctx.total - (own.weight if own is not None and own.countries else 0.0)
    if me >= 0:
        # Every point but the group's own (at most _MAX_POINTS).
        lo, hi = ctx.spans[me]
        points = ctx.points[:lo] + ctx.points[hi:] if hi > lo else ctx.points
    else:
        points = ctx.points
    ranked = list(priors)  # _priors returns them best first
    near_rank = set(ranked[:5])
    new: dict[int, float] = {}
    country, admin1, kinds, population, counties = g.country, g.admin1, g.kind, g.population, g.county
    ctx_countries, ctx_admins, ctx_counties = ctx.countries, ctx.admins, ctx.counties
    own_w = own.weight if own is not None else 0.0
    own_countries = own.countries if own is not None else {}
    own_admins = own.admins if own is not None else {}
    own_counties = own.counties if own is not None else {}
    for c in ranked:
        s = priors[c]
        p = c >> 2
        cc, a1, kind = country[p], admin1[p], kinds[p]
        if total > 0 and cc:
            share = (ctx_countries.get(cc, 0.0) - own_w * own_countries.get(cc, 0.0)) / total
            s += _COUNTRY_WEIGHT * share
            if share < 0.05 and total >= 2 and (kind in (1, 2) or (kind == 0 and population[p] < 100000)):
                # A small namesake, or a division, in a country nothing else in the article is in.
                s -= 0.7
        if kind <= 2 and a1:
            w_a1 = ctx_admins.get(a1, 0.0) - own_w * own_admins.get(a1, 0.0)
            s += _ADMIN_WEIGHT * min(2.0, w_a1)
        county = p if kind == 2 else counties[p] if kind == 0 else -1
        if county >= 0 and ctx_counties:
            # "Huntsville" beside "Walker County" is the county seat in Texas, not the Alabama city.
            w_a2 = ctx_counties.get(county, 0.0) - own_w * own_counties.get(county, 0.0)
            s += _COUNTY_WEIGHT * min(2.0, w_a2)
        if (kind == 0 or kind == 2) and c in near_rank and points:
            lat, lon = g.lat[p], g.lon[p]
            best_d = 1e9
            for qlat, qlon in points:
                if -3 < qlat - lat < 3:
                    d = _near_km(lat, lon, qlat, qlon)
                    if d < best_d:
                        best_d = d
                        if d < 161:
                            break  # near: nothing closer changes the score
            if best_d < 161:
                s += _NEAR_BONUS
            elif kind == 0 and best_d >= 300 and population[p] < 20000:
                # A small town needs a neighbour: another place of the article within 300 km.
                s -= 0.5
        elif kind == 0 and points and population[p] < 20000:
            s -= 0.5
        if container is not None and (
            container.admins.get(a1, 0.0) > 0.3
            or (not container.admins and container.countries.get(cc, 0.0) > 0.3)
        ):
            s += 3.0
        new[c] = s
    return max(new, key=new.__getitem__), new


def _near_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the equirectangular distance: exact enough below a few hundred kilometres, and cheap."""
    dlon = abs(lon2 - lon1)
    if dlon > 180:
        dlon = 360 - dlon
    dx = dlon * math.cos(math.radians((lat1 + lat2) / 2))
    return 111.195 * math.hypot(dx, lat2 - lat1)


def _confidence(m: _Mention) -> float:
    """Return a score in [0, 1] for the chosen candidate: its share of the softmax, damped."""
    final = m.final or m.scores
    if not final:
        return 0.0
    top = final[m.best]
    z = sum(math.exp(v - top) for v in final.values())
    return max(0.0, min(1.0, (1.0 / z) * min(1.0, max(0.0, top) / 2.5)))


def _to_places(text: str, mentions: list[_Mention], min_score: float) -> tuple[list[Place], dict[int, float]]:
    g = gz.load()
    lang = _lang_data()
    by_place: dict[int, Place] = {}
    weight: dict[int, float] = {}
    confs: dict[int, float] = {}  # by group: mentions of one name share their scores
    for m in mentions:
        if m.best < 0:
            continue
        final = m.final or m.scores
        # A multiword name is rarely an ordinary word: it needs less support; a name inside a
        # longer capitalised name ("Paris Public Library") needs more.
        need = (min_score if m.single else min_score - 0.4) + (WEAK_PENALTY if m.weak else 0.0)
        if m.alone:
            # Nothing else in the article to lean on: the name's own prior has to do.
            need -= ALONE_DISCOUNT
        if _after_locative(m, lang):
            need -= LOCATIVE_DISCOUNT  # "in Davos": the preposition already says it is a place
        p = m.best >> 2
        if g.kind[p] == 0 and g.population[p] < 5000:
            need += SMALL_TOWN_PENALTY  # a village's name is most often something else
        if final[m.best] < need:
            continue
        conf = confs.get(id(final))
        if conf is None:
            conf = confs[id(final)] = _confidence(m)
        place = by_place.get(p)
        if place is None:
            a1 = g.admin1[p]
            place = Place(
                geonameid=int(g.geonameid[p]),
                name=g.display[p],
                country_code=g.country[p] or None,
                admin1=g.admin1_names.get(a1) if g.kind[p] != 1 else g.display[p],
                lat=round(float(g.lat[p]), 5),
                lon=round(float(g.lon[p]), 5),
                kind=gz.KINDS[g.kind[p]],
                score=round(conf, 3),
            )
            by_place[p] = place
            weight[p] = 0.0
        else:
            place.score = round(max(place.score, conf), 3)
        place.mentions.append(Mention(text[m.start : m.end], m.start, m.end))
        weight[p] += _KIND_WEIGHT_FOCUS.get(place.kind, 0.2) * (1.0 + conf)
    return list(by_place.values()), weight


# Below this final score a spotted name is not reported: a lone small namesake far from
# everything else in the article ("Wagner", South Dakota, in a story about Bakhmut).
MIN_SCORE = 1.5
WEAK_PENALTY = 2.0
ALONE_DISCOUNT = 0.7
LOCATIVE_DISCOUNT = 0.7
SMALL_TOWN_PENALTY = 1.0
_ROUNDS = 2
MAX_CHARS = 100_000


def _dateline_mention(raw: str | None) -> _Mention | None:
    if not raw:
        return None
    read = _dateline_codes(raw)
    return _Mention(0, 0, read[0], skeleton=read[1]) if read else None


@lru_cache(maxsize=8192)
def _dateline_codes(raw: str) -> tuple[tuple[int, ...], bool] | None:
    """Return the codes a dateline's place may have and whether they came from skeletons.

    Memoised: a wire repeats its datelines ("NEW YORK", "LONDON"), and a big city's name has
    many namesakes to sort.
    """
    # "SALVADOR, Feb 26 -", "LONDON (Reuters) -", "(Chassiv Iar)": the place comes first.
    name = re.split(r",| \(| [-–—]|\)", raw.strip(" \t\n(-–—"), maxsplit=1)[0].strip(" ()-–—")
    if not name or len(name) > 60:
        return None
    key = gz.fold(name)
    codes, skel = _lookup(key, name, allow_skeleton=True)
    if not codes:
        return None
    # A dateline names a city by convention: "SALVADOR" is Salvador da Bahia, not El Salvador.
    g = gz.load()
    cities = tuple(
        c for c in codes if g.kind[c >> 2] == 0 and (g.population[c >> 2] >= 100000 or g.capital[c >> 2])
    )
    cities = cities or codes
    # ... and by its main name ("SALVADOR" is not San Salvador, once called Salvador).
    primary = tuple(c for c in cities if c & 3 == gz.NAME_PRIMARY)
    return primary or cities, skel


def resolve_places(article: Article) -> tuple[list[Place], Focus]:
    """Return the places `article` names, each with its mentions, and the article's focus."""
    try:
        return _resolve(article)
    except Exception:  # the stage must never fail an article: no places is a valid answer
        log.exception("places: resolution failed for article %r", getattr(article, "id", None))
        return [], Focus(place=None, country_code=None)


def _resolve(article: Article) -> tuple[list[Place], Focus]:
    text = article.body if isinstance(article.body, str) else ""
    if not text:
        return [], Focus(place=None, country_code=None)
    skip = [(int(a), int(b)) for a, b in (article.boilerplate or [])]
    # Spot in the first MAX_CHARS only: a real story is far shorter, and the bound keeps a
    # megabyte of names from holding the worker (offsets still index the whole body).
    mentions = _spot(text[:MAX_CHARS], skip)
    dateline = _dateline_mention(article.dateline) if isinstance(article.dateline, str) else None
    _disambiguate(text, mentions, dateline)
    places, weight = _to_places(text, mentions, MIN_SCORE)
    return places, _focus(places, weight, dateline, mentions)


def _focus(
    places: list[Place], weight: dict[int, float], dateline: _Mention | None, mentions: list[_Mention]
) -> Focus:
    """Return the article's main place (the dateline's, else the most weighted) and country."""
    g = gz.load()
    if dateline is not None and dateline.best >= 0:
        best = dateline.best
        # The body's reading of the same name, chosen in context, beats the name's bare prior.
        for m in mentions:
            if m.best >= 0 and (m.best in dateline.scores or m.codes == dateline.codes):
                best = m.best
                break
        p = best >> 2
        return Focus(place=int(g.geonameid[p]), country_code=g.country[p] or None)
    if not places:
        return Focus(place=None, country_code=None)
    best = max(weight, key=weight.__getitem__)
    countries: dict[str, float] = {}
    for p, w in weight.items():
        if g.country[p]:
            countries[g.country[p]] = countries.get(g.country[p], 0.0) + w
    cc = g.country[best] or (max(countries, key=countries.__getitem__) if countries else None)
    return Focus(place=int(g.geonameid[best]), country_code=cc or None)


def resolve_spans(body: str, spans: list[tuple[int, int]], language: str | None = None) -> list[Place | None]:
    """Return the place each given span names (None when unknown), with the same disambiguation.

    For evaluation with gold toponym spans: every span is looked up as written, and all of them
    form the context of each other.
    """
    del language  # the language data of every language is merged (see _lang_data)
    g = gz.load()
    lang = _lang_data()
    mentions: list[_Mention] = []
    order: list[int] = []
    for k, (s, e) in enumerate(spans):
        surface = body[s:e]
        key = gz.fold(surface)
        qualifier: str | None = None
        codes: tuple[int, ...] = ()
        skel = False
        if surface.endswith(".") and lang.abbreviations.get(key) in g.admin1_index:
            # "Kan.", "W.Va.": a region abbreviation, not a namesake spelled the same.
            codes = (g.admin1_index[lang.abbreviations[key]] * 4 + gz.NAME_ALTERNATE,)
            qualifier = "admin"
        if not codes:
            codes, skel = _lookup(key, surface, allow_skeleton=True)
        if not codes:
            words = key.split()
            if len(words) > 1 and words[-1] in lang.suffixes:
                codes, skel = _lookup(" ".join(words[:-1]), surface, allow_skeleton=True)
                qualifier = lang.suffixes[words[-1]]
        if not codes and key in lang.abbreviations and lang.abbreviations[key] in g.admin1_index:
            codes = (g.admin1_index[lang.abbreviations[key]] * 4 + gz.NAME_ALTERNATE,)
            qualifier = "admin"
        if not codes and _demonym_place(g, lang.demonyms.get(key)) >= 0:
            codes = (_demonym_place(g, lang.demonyms[key]) * 4 + gz.NAME_DEMONYM,)
        if not codes:
            continue
        m = _Mention(s, e, codes, qualifier=qualifier, skeleton=skel, single=len(key.split()) == 1)
        m.dateline = _is_dateline(body, s, e)
        mentions.append(m)
        order.append(k)
    _disambiguate(body, mentions, None)
    out: list[Place | None] = [None] * len(spans)
    for k, m in zip(order, mentions, strict=True):
        places, _ = _to_places(body, [m], -math.inf)
        out[k] = places[0] if places else None
    return out
