"""Dates stage: the publication time and the temporal expressions of the body.

Two pure functions, `publication_time` and `find_dates`. The logic here is language-free: every
word (months, weekdays, units, modifiers, trigger phrases) and every surface pattern lives in the
per-language files of `streams/data/dates/`. A pattern is a regex template whose `{PLACEHOLDER}`s
expand to the language's word lists and whose named groups (`year`, `month`, `day`, `weekday`,
`unit`, `num`, `mod`, ...) feed one of a small set of interpreters (`kind`), which turn the
groups into a TIMEX3 value relative to the publication time (the document creation time, DCT).

All tables are compiled once per language, lazily, at first use.
"""

from __future__ import annotations

import re
import tomllib
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import cache, lru_cache
from itertools import filterfalse, repeat
from pathlib import Path
from typing import Any

from streams.records import Article, Published, TemporalExpression

DATA_DIR = Path(__file__).parent / "data" / "dates"
FALLBACK_LANGUAGE = "en"

# ---------------------------------------------------------------------------------------------
# Language tables


@dataclass(slots=True)
class Rule:
    """One surface pattern and the interpreter that turns its groups into a value."""

    regex: re.Pattern[str]
    kind: str
    type: str | None
    value: str | None
    anchor: str  # "dct" (the publication time) or "ref" (the last date named in the text)
    nested: bool = False  # the dates inside this span are reported too ("from 2009 to 2011")


@dataclass(slots=True)
class Lang:
    """A language's compiled patterns and word tables (all keys lower case)."""

    code: str
    rules: list[Rule]
    months: dict[str, int]
    weekdays: dict[str, int]
    numbers: dict[str, float]
    ordinals: dict[str, int]
    units: dict[str, str]
    seasons: dict[str, str]
    parts_of_day: dict[str, str]
    deictic: dict[str, int]
    modifiers: dict[str, int]
    refs: dict[str, str]
    sets: dict[str, str]
    vague: set[str]
    date_order: str
    decade_format: str
    ref_type: str
    capitalised_names: bool
    future_cues: re.Pattern[str] | None
    past_cues: re.Pattern[str] | None
    governing_past: re.Pattern[str] | None  # a past tense that governs what follows ("said Tuesday")
    triggers: dict[str, tuple[int, ...]]  # word -> the rules it can trigger
    digit_rules: dict[str, tuple[int, ...]]  # digit-run shape ("year", "small", ...) -> rules
    extra: dict[str, Any] = field(default_factory=dict)


def _alternation(words: list[str]) -> str:
    """Return a regex matching any of `words`, as a prefix trie so that a failing branch fails fast.

    The longest word wins because each trie node tries its longer continuations before ending.
    A space in a phrase matches any run of white space.
    """
    words = [w for w in set(words) if w]
    if not words:
        return "(?!)"
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        ends = "" in node
        branches = []
        for ch in sorted(k for k in node if k):
            atom = r"\s+" if ch == " " else "['’]" if ch in "'’" else re.escape(ch)
            branches.append(atom + emit(node[ch]))
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            return "(?:" + body + ")?"
        return body

    return "(?:" + emit(trie) + ")"


def _load_data(name: str) -> dict[str, Any]:
    with (DATA_DIR / f"{name}.toml").open("rb") as fh:
        return tomllib.load(fh)


@cache
def _available() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in DATA_DIR.glob("*.toml") if not p.stem.startswith("_")))


def available_languages() -> list[str]:
    """Return the language codes that have a data file."""
    return list(_available())


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, val in extra.items():
        if isinstance(val, dict) and isinstance(out.get(key), dict):
            out[key] = {**out[key], **val}
        elif isinstance(val, list) and isinstance(out.get(key), list):
            out[key] = out[key] + val
        else:
            out[key] = val
    return out


def _language(code: str) -> Lang:
    """Return the compiled tables of language `code` (English for a code with no data file)."""
    # Resolve before the cache: any odd code a feed sends must not compile the tables anew.
    return _compiled(code if code in _available() else FALLBACK_LANGUAGE)


@cache
def _compiled(code: str) -> Lang:
    """Return the compiled tables of a language that has a data file."""
    data = _load_data(code)
    merged = _load_data("_common")
    for name in data.get("include", []):
        merged = _merge(merged, _load_data(name))
    data = _merge(merged, data)
    lower = {
        k: {w.lower(): v for w, v in data.get(k, {}).items()}
        for k in (
            "months",
            "month_abbreviations",
            "weekdays",
            "weekday_abbreviations",
            "weekdays_plural",
            "numbers",
            "ordinals",
            "units",
            "seasons",
            "parts_of_day",
            "deictic",
            "anaphoric",
            "modifiers_pre",
            "modifiers_post",
            "refs",
            "sets",
            "zones",
            "deictic_pod",
            "holidays",
        )
    }
    months = {**lower["months"], **lower["month_abbreviations"]}
    weekdays = {**lower["weekdays"], **lower["weekday_abbreviations"], **lower["weekdays_plural"]}
    modifiers = {**lower["modifiers_pre"], **lower["modifiers_post"]}
    word_lists: dict[str, list[str]] = {k: list(v) for k, v in lower.items()}
    data["_deictic_pod"] = {
        k: (int(v.split()[0]), v.split()[1]) for k, v in lower["deictic_pod"].items() if len(v.split()) == 2
    }
    # Abbreviations may carry a dot ("Feb."); a full name's dot ends the sentence.
    word_lists["month_any"] = [*months, *(a + "." for a in lower["month_abbreviations"])]
    word_lists["weekday_any"] = [
        *lower["weekdays"],
        *lower["weekday_abbreviations"],
        *(a + "." for a in lower["weekday_abbreviations"]),
    ]
    for key, words in data.get("words", {}).items():
        word_lists[key] = [w.lower() for w in words]
    placeholders = {k.upper(): _alternation(v) for k, v in word_lists.items()}
    words = data.get("words", {})
    articles = [w.lower() for w in words.get("articles", [])]
    number_words = _alternation(
        [w for w in list(lower["numbers"]) + words.get("vague", []) if w not in articles]
    )
    joiners = _alternation([*words.get("number_joiners", []), " ", "-"])
    half = _alternation(words.get("half", []))
    placeholders["NUM"] = (
        r"(?:\d+(?:[.,]\d+)?|"
        + number_words
        + "(?:"
        + joiners
        + number_words
        + ")*"
        + "|"
        + _alternation(articles)
        + r")(?:\s+"
        + half
        + ")?"
    )
    placeholders.update({k: v for k, v in data.get("fragments", {}).items()})
    # Fragments may use the word-list placeholders themselves: expand them once more.
    for key in data.get("fragments", {}):
        placeholders[key] = _expand(placeholders[key], placeholders)
    stop = {w.lower() for w in data.get("trigger_stopwords", [])}
    head_lists = set(data.get("head_lists", []))
    fragments = data.get("fragments", {})
    rules = []
    triggers: dict[str, set[int]] = {}
    digit_rules: dict[str, list[int]] = {}
    for index, spec in enumerate(data.get("rules", [])):
        template = _expand(spec["re"], fragments)
        pattern = _expand(template, placeholders, "(?!)")
        # Patterns are written in lower case and run on the lower-cased text: no IGNORECASE, which
        # makes Python's regex engine several times slower.
        # A letter and a hyphen before make a compound ("après-midi" holds no "midi"); a digit
        # and a hyphen are a range ("3-5 May").
        regex = re.compile(r"(?<!\w)(?<![^\W\d_]-)(?:" + pattern + r")(?!\w)")
        rules.append(
            Rule(
                regex,
                spec["kind"],
                spec.get("type"),
                spec.get("value"),
                spec.get("anchor", "dct"),
                bool(spec.get("nested", False)),
            )
        )
        for shape in spec.get("digits", []):
            digit_rules.setdefault(shape, []).append(index)
        # The words that can start a search for this rule: its head lists' words and its own.
        heads = [w.lower() for w in spec.get("triggers", [])]
        heads.extend(word_lists.get(spec.get("triggers_list", ""), []))
        for name in _PLACEHOLDER.findall(template):
            if name.lower() in head_lists:
                heads.extend(word_lists.get(name.lower(), []))
        for phrase in heads:
            # A match holds every word of its phrase, so one word is enough to find it: the
            # longest content word, as the rarest ("yesterday" in "the day before yesterday").
            tokens = _TOKEN.findall(phrase)
            content = [t for t in tokens if t not in stop] or tokens
            if content:
                triggers.setdefault(max(content, key=len), set()).add(index)
    return Lang(
        code=code,
        rules=rules,
        months=months,
        weekdays=weekdays,
        numbers=lower["numbers"],
        ordinals=lower["ordinals"],
        units=lower["units"],
        seasons=lower["seasons"],
        parts_of_day=lower["parts_of_day"],
        deictic={**lower["deictic"], **lower["anaphoric"]},
        modifiers=modifiers,
        refs=lower["refs"],
        sets=lower["sets"],
        vague={w.lower() for w in words.get("vague", [])},
        date_order=data.get("date_order", "dmy"),
        decade_format=data.get("decade_format", "{decade}"),
        ref_type=data.get("ref_type", "DATE"),
        capitalised_names=bool(data.get("capitalised_names", False)),
        future_cues=re.compile(data["future_cues"]) if data.get("future_cues") else None,
        past_cues=re.compile(data["past_cues"]) if data.get("past_cues") else None,
        governing_past=re.compile(data["governing_past"]) if data.get("governing_past") else None,
        triggers={w: tuple(sorted(r)) for w, r in triggers.items()},
        digit_rules={k: tuple(v) for k, v in digit_rules.items()},
        extra=data,
    )


_PLACEHOLDER = re.compile(r"\{([A-Z_]+)\}")


def _expand(template: str, placeholders: dict[str, str], unknown: str | None = None) -> str:
    """Return `template` with each `{NAME}` replaced by its alternation.

    An unknown name is kept as is, or replaced by `unknown` ("(?!)": a list the language leaves
    empty never matches).
    """
    return _PLACEHOLDER.sub(
        lambda m: placeholders.get(m.group(1), m.group(0) if unknown is None else unknown), template
    )


# ---------------------------------------------------------------------------------------------
# Calendar arithmetic


def _add_months(year: int, month: int, k: int) -> tuple[int, int]:
    idx = year * 12 + (month - 1) + k
    return idx // 12, idx % 12 + 1


def _safe_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _iso_week(d: date) -> str:
    y, w, _ = d.isocalendar()
    return f"{y:04d}-W{w:02d}"


_SEASON_MONTH = {"SP": 4, "SU": 7, "FA": 10, "WI": 1}


def _pick_year(
    dct: date, key: tuple[int, ...], tense: int, mod: int | None, future_weight: float = 1.0
) -> int:
    """Return the year that places `key` (month[, day]) nearest `dct` as the context asks.

    `mod` -1/0/+1 comes from "last"/"this"/"next"; `tense` -1/0/+1 from the verbs around. News
    mostly refers to the recent past, so without cues the nearest reading wins, ties to the past.
    """
    here = (dct.month, dct.day)[: len(key)]
    cands = [dct.year - 1, dct.year, dct.year + 1]
    if mod == 0:
        return dct.year
    if mod == -1:
        return max(y for y in cands if (y, *key) < (dct.year, *here))
    if mod == 1:
        return min(y for y in cands if (y, *key) > (dct.year, *here))
    if tense < 0:
        return max(y for y in cands if (y, *key) <= (dct.year, *here))
    if tense > 0:
        return min(y for y in cands if (y, *key) >= (dct.year, *here))

    def distance(y: int) -> float:
        d = _safe_date(y, key[0], key[1] if len(key) > 1 else 15) or date(y, key[0], 28)
        delta = (d - dct).days
        # News mostly looks back: a month ahead counts as two behind.
        return abs(delta) * (future_weight if delta > 0 else 1) + (0.5 if delta > 0 else 0)

    return min(cands, key=distance)


def _pick_weekday(dct: date, weekday: int, tense: int, mod: int | None) -> date:
    """Return the date of `weekday` (1 = Monday) nearest `dct`, in the direction the context asks."""
    delta = weekday - 1 - dct.weekday()
    past = dct + timedelta(days=delta if delta <= 0 else delta - 7)
    future = dct + timedelta(days=delta if delta >= 0 else delta + 7)
    if mod == -1:
        return past if past < dct else past - timedelta(days=7)
    if mod == 1:
        return future if future > dct else future + timedelta(days=7)
    if tense < 0:
        return past
    if tense > 0:
        return future
    return past if (dct - past) <= (future - dct) else future


def _shift(dct: date, unit: str, k: int) -> tuple[str, str]:
    """Return the value (and its granularity) of the `unit` that lies `k` units from `dct`."""
    if unit == "D":
        d = dct + timedelta(days=k)
        return d.isoformat(), "day"
    if unit in ("W", "WE"):
        d = dct + timedelta(weeks=k)
        return _iso_week(d) + ("-WE" if unit == "WE" else ""), "week"
    if unit == "M":
        y, m = _add_months(dct.year, dct.month, k)
        return f"{y:04d}-{m:02d}", "month"
    if unit == "Q":
        q = (dct.month - 1) // 3 + k
        y = dct.year + q // 4
        return f"{y:04d}-Q{q % 4 + 1}", "quarter"
    if unit == "Y":
        return f"{dct.year + k:04d}", "year"
    if unit == "DE":
        return f"{dct.year // 10 + k:03d}", "decade"
    if unit == "CE":
        return f"{dct.year // 100 + k:02d}", "century"
    # "this hour", "the last minute": finer than the publication day, so only the present.
    return "PRESENT_REF", "vague"


# ---------------------------------------------------------------------------------------------
# Interpreting matches


@dataclass(slots=True)
class _Context:
    lang: Lang
    body: str
    lower: str
    dct: date | None
    ref: date | None
    coarse: str = ""  # "month"/"year": the publication time names no day, so neither may we
    spans: dict[str, int] = field(default_factory=dict)  # group name -> start offset in body
    cues: dict[tuple[int, int], list[tuple[int, int]]] = field(default_factory=dict)  # per sentence
    breaks: list[int] | None = None  # sentence ends, found on first need


def _number(text: str | None, lang: Lang) -> float | None:
    """Return the number written in `text` ("3", "30,4", "twenty-five", "dix-huit"), or None."""
    if not text:
        return None
    t = " ".join(text.lower().split())
    extra = 0.0
    for half in lang.extra.get("words", {}).get("half", []):
        if t.endswith(" " + half):
            t, extra = t[: -len(half) - 1], 0.5
    if t in lang.vague:
        return None
    try:
        return float(t.replace(",", ".")) + extra
    except ValueError:
        pass
    if t in lang.numbers:
        return lang.numbers[t] + extra
    total = 0.0
    joiners = [j for j in lang.extra.get("words", {}).get("number_joiners", []) if j.strip()]
    for j in joiners:
        t = t.replace(j, " ")
    for part in re.split(r"[-\s]+", t):
        if not part:
            continue
        if part not in lang.numbers:
            return None
        val = lang.numbers[part]
        total = total * val if val >= 100 and total else total + val
    return total + extra


def _roman(text: str) -> int:
    """Return the value of a Roman numeral ("XXe" -> 20), or 0."""
    values = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}
    digits = [values.get(c, 0) for c in text.lower() if c in values]
    total = 0
    for i, v in enumerate(digits):
        total += -v if i + 1 < len(digits) and digits[i + 1] > v else v
    return total


def _fmt_number(n: float) -> str:
    return str(int(n)) if n == int(n) else f"{n:g}"


# A line break, or a full stop before white space. Written to start with a character class, which
# the regex engine scans for quickly, rather than as an alternation "[.!?](?=\s)|\n".
_SENTENCE_END = re.compile(r"[.!?\n](?:(?<=\n)|(?=\s))")
_CUE_REACH = 300  # characters around an expression searched for tense cues
_WEEKDAY_CUE_REACH = 40
_GOVERNING_GAP = 20  # characters between a governing verb and its expression ("told reporters on ")


def _tense(ctx: _Context, start: int, reach: int = _CUE_REACH) -> int:
    """Return -1/0/+1: the tense of the cue nearest `start` within its sentence and `reach`.

    A past tense right before the expression governs it, whatever comes after: in "said Tuesday
    that talks would resume" Tuesday is past, though "would" is nearer than any other past cue.
    """
    lower = ctx.lower
    if ctx.breaks is None:
        ctx.breaks = [m.start() + 1 for m in _SENTENCE_END.finditer(lower)]
    i = bisect_right(ctx.breaks, start)
    lo = ctx.breaks[i - 1] if i > 0 else 0
    hi = ctx.breaks[i] if i < len(ctx.breaks) else len(lower)
    # A "sentence" without full stops (a list, a table) is cut to the neighbourhood, on a fixed
    # grid so that the expressions of one stretch share their cue search.
    block = start // _CUE_REACH
    lo, hi = max(lo, (block - 1) * _CUE_REACH), min(hi, (block + 2) * _CUE_REACH)
    cues = ctx.cues.get((lo, hi))
    if cues is None:
        cues = []
        for regex, tense in ((ctx.lang.future_cues, 1), (ctx.lang.past_cues, -1)):
            if regex is not None:
                cues.extend((m.start(), tense) for m in regex.finditer(lower, lo, hi))
        ctx.cues[(lo, hi)] = cues
    governing = ctx.lang.governing_past
    # A past tense of the same sentence right before `start`, no future cue in between.
    verb = governing.search(lower, max(lo, start - _GOVERNING_GAP), start) if governing else None
    if verb and not any(tense > 0 and verb.end() <= pos < start for pos, tense in cues):
        return -1
    best = 0
    best_d = len(lower)
    for pos, tense in cues:
        # The verb that governs an expression mostly comes before it ("said on Tuesday that
        # ... will"): a cue after it counts from twice as far.
        if abs(pos - start) > reach:
            continue
        d = start - pos if pos <= start else 2 * (pos - start)
        if d < best_d or (d == best_d and tense > 0):
            best, best_d = tense, d
    return best


def _year_of(text: str, dct: date | None) -> int | None:
    t = text.lstrip("'’")
    if not t.isdigit():
        return None
    y = int(t)
    if len(t) == 2:
        century = (dct.year // 100 * 100) if dct else 1900
        cands = [century - 100 + y, century + y]
        ref_year = dct.year if dct else 1950
        return min(cands, key=lambda c: abs(c - ref_year) + (0 if c <= ref_year else 0.5))
    return y if 1000 <= y <= 2999 else None


def _interpret(
    kind: str, g: dict[str, str | None], rule: Rule, ctx: _Context, start: int
) -> tuple[str, str, str] | None:
    """Return (value, type, granularity) for the groups `g` of a `kind` match, or None to drop it."""
    lang = ctx.lang
    dct = ctx.dct
    mod = lang.modifiers.get((g.get("mod") or "").lower().replace("’", "'").strip()) if g.get("mod") else None
    anchor = ctx.ref if rule.anchor == "ref" and ctx.ref else dct

    if kind == "block":  # a longer reading that is not a time (an age): keeps shorter ones out
        return None

    if kind == "fixed":
        return rule.value or "", rule.type or "DATE", "vague"

    if kind == "ref":
        word = " ".join((g.get("ref") or "").lower().replace("’", "'").split())
        value = rule.value or lang.refs.get(word)
        return (value, rule.type or lang.ref_type, "vague") if value else None

    if kind == "iso":
        y, m, d = int(g["year"] or 0), int(g["month"] or 0), int(g["day"] or 0)
        if not _safe_date(y, m, d):
            return None
        if g.get("hour"):
            return f"{y:04d}-{m:02d}-{d:02d}T{int(g['hour']):02d}:{g.get('minute') or '00'}", "TIME", "minute"
        return f"{y:04d}-{m:02d}-{d:02d}", "DATE", "day"

    if kind == "numeric":
        a, b = int(g["a"] or 0), int(g["b"] or 0)
        y = _year_of(g["year"] or "", dct)
        if y is None:
            return None
        day, month = (b, a) if lang.date_order == "mdy" else (a, b)
        if month > 12 >= day:  # an impossible month settles the order
            day, month = month, day
        d = _safe_date(y, month, day)
        return (d.isoformat(), "DATE", "day") if d else None

    if kind == "date":
        pod = lang.parts_of_day.get((g.get("pod") or "").lower())
        year = _year_of(g["year"], dct) if g.get("year") else None
        if g.get("yearmod") and dct is not None:  # "February of last year", "février de l'année dernière"
            year = dct.year + lang.modifiers.get(g["yearmod"].lower(), 0)
        month = lang.months.get((g.get("month") or "").lower().rstrip(".")) if g.get("month") else None
        if g.get("month_num"):
            month = int(g["month_num"])
        day = None
        if g.get("day"):
            day = int(re.sub(r"\D", "", g["day"]) or 0)
        elif g.get("day_word"):
            day = lang.ordinals.get(g["day_word"].lower())
        weekday = (
            lang.weekdays.get((g.get("weekday") or "").lower().rstrip(".")) if g.get("weekday") else None
        )
        season = lang.seasons.get((g.get("season") or "").lower()) if g.get("season") else None
        if lang.capitalised_names:
            for key in ("month", "weekday"):
                if g.get(key) and not ctx.body[ctx.spans[key]].isupper():
                    return None
        tense = _tense(ctx, start) if dct else 0
        if season:
            if year is None and dct is None:
                return f"XXXX-{season}", "DATE", "season"
            if year is None and rule.value == "generic":
                return f"XXXX-{season}", "DATE", "season"
            if year is None:
                year = _pick_year(dct, (_SEASON_MONTH[season],), tense, mod)  # type: ignore[arg-type]
            return f"{year:04d}-{season}", "DATE", "season"
        if month and day:
            if not 1 <= day <= 31:
                return None
            if year is None:
                if dct is None:
                    return f"XXXX-{month:02d}-{day:02d}", "DATE", "day"
                year = _pick_year(dct, (month, day), 0, mod)
            d = _safe_date(year, month, day)
            if d is None:
                return None
            ctx.ref = d
            if pod:
                return f"{d.isoformat()}T{pod}", "TIME", "part-of-day"
            return d.isoformat(), "DATE", "day"
        if month:
            if year is None:
                if dct is None:
                    return f"XXXX-{month:02d}", "DATE", "month"
                year = _pick_year(dct, (month,), tense, mod, 2.0)
            return f"{year:04d}-{month:02d}", "DATE", "month"
        if weekday:
            if dct is None or (ctx.coarse and ctx.ref == dct):
                # No day to count from: "Sunday" stays a Sunday, not a guessed date.
                if pod:
                    return f"XXXX-WXX-{weekday}T{pod}", "TIME", "part-of-day"
                return f"XXXX-WXX-{weekday}", "DATE", "day"
            base = anchor if rule.anchor == "ref" else dct
            # Only the verb right next to a weekday says which way it points ("said on Monday",
            # "will meet on Monday"); otherwise the nearest such day is the best guess.
            d = _pick_weekday(base, weekday, _tense(ctx, start, reach=_WEEKDAY_CUE_REACH), mod)  # type: ignore[arg-type]
            ctx.ref = d
            if pod:
                return f"{d.isoformat()}T{pod}", "TIME", "part-of-day"
            return d.isoformat(), "DATE", "day"
        if year is not None:
            return f"{year:04d}", "DATE", "year"
        return None

    if kind == "deictic":
        key = " ".join((g.get("deictic") or "").lower().replace("’", "'").split())
        offset = lang.deictic.get(key)
        if ctx.coarse and anchor == dct and dct is not None:
            # "yesterday" in an article dated only "2023-06": June 2023 is all we know.
            return _coarse_value(ctx), "DATE", ctx.coarse
        if offset is None and key in lang.extra.get("_deictic_pod", {}):
            # one word for a day and its part: "stamattina", "anoche"
            offset, pod_code = lang.extra["_deictic_pod"][key]
            g = {**g, "pod": None}
            rule = Rule(rule.regex, rule.kind, rule.type, pod_code, rule.anchor)
        if offset is None or anchor is None:
            return None
        d = anchor + timedelta(days=offset)
        ctx.ref = d
        pod = lang.parts_of_day.get((g.get("pod") or "").lower()) or (rule.value if rule.value else None)
        if pod:
            return f"{d.isoformat()}T{pod}", "TIME", "part-of-day"
        return d.isoformat(), "DATE", "day"

    if kind == "pod":
        pod = lang.parts_of_day.get((g.get("pod") or "").lower()) or rule.value
        if not pod or anchor is None:
            return None
        if ctx.coarse and anchor == dct:
            return f"XXXX-XX-XXT{pod}", "TIME", "part-of-day"
        return f"{anchor.isoformat()}T{pod}", "TIME", "part-of-day"

    if kind == "unit_rel":
        unit = lang.units.get((g.get("unit") or "").lower())
        if unit is None or dct is None:
            return None
        k = mod if mod is not None else (int(rule.value) if rule.value else 0)
        value, gran = _shift(dct, unit, k)
        return value, "DATE", gran

    if kind in ("ago", "later"):
        unit = lang.units.get((g.get("unit") or "").lower())
        n = _number(g.get("num"), lang) if g.get("num") else 1.0
        if unit is None or n is None or dct is None or n != int(n) or n > 5000:
            return None
        k = int(n) * (-1 if kind == "ago" else 1)
        if unit == "W":
            d = dct + timedelta(weeks=k)
            return d.isoformat(), "DATE", "day"
        if unit == "D":
            d = dct + timedelta(days=k)
            return d.isoformat(), "DATE", "day"
        if unit == "DE":
            return f"{dct.year + 10 * k:04d}", "DATE", "year"
        if unit in ("H", "MIN", "S"):
            return ("PAST_REF" if k < 0 else "FUTURE_REF"), "TIME", "vague"
        value, gran = _shift(dct, unit, k)
        return value, "DATE", gran

    if kind == "duration":
        unit = lang.units.get((g.get("unit") or "").lower())
        if unit is None:
            return None
        numtext = g.get("num")
        n = _number(numtext, lang) if numtext else (None if rule.value == "X" else 1.0)
        amount = "X" if n is None else _fmt_number(n)
        if unit == "DE":
            amount, unit = ("X" if n is None else _fmt_number(n * 10)), "Y"
        elif unit == "CE":
            amount, unit = ("X" if n is None else _fmt_number(n * 100)), "Y"
        if unit in ("H", "MIN", "S"):
            return f"PT{amount}{'M' if unit == 'MIN' else unit}", "DURATION", "duration"
        return f"P{amount}{unit}", "DURATION", "duration"

    if kind == "set":
        if g.get("weekday"):
            wd = lang.weekdays.get(g["weekday"].lower())
            return (f"XXXX-WXX-{wd}", "SET", "set") if wd else None
        if g.get("setword"):
            v = lang.sets.get(" ".join(g["setword"].lower().replace("’", "'").split()))
            return (v, "SET", "set") if v else None
        unit = lang.units.get((g.get("unit") or "").lower())
        if unit is None:
            return None
        n = _number(g.get("num"), lang) if g.get("num") else 1.0
        amount = "1" if n is None else _fmt_number(n)
        if unit in ("H", "MIN", "S"):
            return f"PT{amount}{'M' if unit == 'MIN' else unit}", "SET", "set"
        if unit == "DE":
            return "P10Y", "SET", "set"
        return f"P{amount}{unit}", "SET", "set"

    if kind == "time":
        hour = 12 if g.get("noon") else int(g.get("hour") or 0)
        minute = int(g.get("minute") or 0)
        ampm = (g.get("ampm") or "").lower().replace(".", "").replace(" ", "")
        if ampm.startswith("p") and hour < 12:
            hour += 12
        elif ampm.startswith("a") and hour == 12:
            hour = 0
        if hour > 24 or minute > 59:
            return None
        zone = lang.extra.get("zones", {}).get((g.get("tz") or "").lower(), "")
        day = anchor.isoformat() if anchor and not (ctx.coarse and anchor == dct) else "XXXX-XX-XX"
        if g.get("second"):
            return f"{day}T{hour:02d}:{minute:02d}:{g['second']}{zone}", "TIME", "second"
        return f"{day}T{hour:02d}:{minute:02d}{zone}", "TIME", "minute"

    if kind == "decade":
        text = re.sub(r"\D", "", g.get("decade") or "")
        if len(text) == 2:
            century = int(g["century"]) if g.get("century") else 19
            text = f"{century}{text}"
        if len(text) != 4:
            return None
        return lang.decade_format.format(decade=text[:3]), "DATE", "decade"

    if kind in _PARTS_OF_YEAR:  # the third quarter, the first half (of 2009)
        letter, parts = _PARTS_OF_YEAR[kind]
        q = lang.ordinals.get((g.get("ordinal") or "").lower())
        if g.get("qnum"):
            q = int(g["qnum"])
        if q == -1 and dct is not None and letter == "Q":  # "the last quarter": the one before now
            value, gran = _shift(dct, "Q", -1)
            return value, "DATE", gran
        if not q or not 1 <= q <= parts:
            return None
        year = _year_of(g["year"], dct) if g.get("year") else None
        if year is None and dct is not None:
            current = (dct.month - 1) * parts // 12 + 1
            # Results are reported after the period: a later one than now is last year's.
            year = dct.year + (
                mod if mod is not None else (-1 if q > current and _tense(ctx, start) <= 0 else 0)
            )
        if year is None:
            return f"XXXX-{letter}{q}", "DATE", kind
        return f"{year:04d}-{letter}{q}", "DATE", kind

    if kind == "holiday":  # Christmas, New Year's Day: a fixed day of the year
        md = lang.extra.get("holidays", {}).get(
            " ".join((g.get("holiday") or "").lower().replace("’", "'").split())
        )
        if not md:
            return None
        month, day = (int(x) for x in md.split("-"))
        year = _year_of(g["year"], dct) if g.get("year") else None
        if year is None:
            if dct is None:
                return f"XXXX-{md}", "DATE", "day"
            year = _pick_year(dct, (month, day), _tense(ctx, start), mod)
        d = _safe_date(year, month, day)
        if d is None:
            return None
        ctx.ref = d
        return d.isoformat(), "DATE", "day"

    if kind == "century":  # the 20th century -> 19
        n = int(re.sub(r"\D", "", g.get("century") or "") or 0) or _roman(g.get("roman") or "")
        if not n:
            return None
        return f"{n - 1:02d}", "DATE", "century"

    if kind == "weekend":  # "the weekend": the last one, or the next when the verbs look ahead
        if dct is None:
            return None
        saturday = dct - timedelta(days=(dct.weekday() - 5) % 7)
        if _tense(ctx, start) > 0 and saturday < dct - timedelta(days=1):
            saturday += timedelta(days=7)
        return _iso_week(saturday) + "-WE", "DATE", "week"

    if kind == "year_span":  # from 2009 to 2011: P2Y
        start_year, end_year = _year_of(g.get("year") or "", dct), _year_of(g.get("end") or "", dct)
        if start_year is None or end_year is None or not 0 < end_year - start_year < 1000:
            return None
        return f"P{end_year - start_year}Y", "DURATION", "duration"

    if kind == "year_rel":  # "the previous year", "the year before": relative to the ref date
        base = anchor
        if base is None:
            return None
        return f"{base.year + int(rule.value or 0):04d}", "DATE", "year"

    return None


# ---------------------------------------------------------------------------------------------
# Public functions


def _coarse_value(ctx: _Context) -> str:
    """Return the publication time at the granularity it is known (a month or a year)."""
    assert ctx.dct is not None
    if ctx.coarse == "year":
        return f"{ctx.dct.year:04d}"
    return f"{ctx.dct.year:04d}-{ctx.dct.month:02d}"


def _is_coarse(published: Published | None) -> str:
    """Return "month" or "year" if the publication time is known only that far, else ""."""
    value = published.value if published is not None and isinstance(published.value, str) else ""
    if re.fullmatch(r"\d{4}", value):
        return "year"
    return "month" if re.fullmatch(r"\d{4}-\d{2}", value) else ""


def _parse_dct(published: Published | None) -> date | None:
    if published is None or not published.value:
        return None
    m = re.match(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", published.value)
    if not m:
        return None
    y = int(m.group(1))
    mo = int(m.group(2) or 1)
    d = int(m.group(3) or 1)
    if not m.group(3) and m.group(2):
        d = 15  # a month-granular publication time: take its middle as the reference
    if not m.group(2):
        mo, d = 6, 30
    return _safe_date(y, mo, d)


_TOKEN = re.compile(r"\w+")
_WINDOW = 26  # characters of context a pattern may need on each side of its trigger word


def _lower(text: str) -> str:
    """Return `text` in lower case with the same length, so offsets stay valid."""
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


_PUNCT = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~“”‘’«»–—…„‚·•′″¡¿"
_NONWORD = re.compile(r"[^\w]+")
_HAS_DIGIT = re.compile(r"\d")
_WORD_TAIL = re.compile(r"\w*")
_DIGITS = re.compile(r"\d+")


# TIMEX3 parts of a year a rule of that kind names: (letter, parts in a year).
_PARTS_OF_YEAR = {"quarter": ("Q", 4), "half": ("H", 2)}

_SHAPES = (
    ("iso", re.compile(r"\d{4}-\d\d-\d\d")),
    ("numeric", re.compile(r"\d{1,2}([/.])\d{1,2}\1\d{2,4}")),
    ("clock", re.compile(r"\d{1,2}[:h.]\d\d")),
    ("decade", re.compile(r"\d*0s")),
    ("quarter", re.compile(r"q[1-4]")),
    ("year", re.compile(r"(?<!\d)(?:1[5-9]|20)\d\d(?!\d)")),
    ("four", re.compile(r"(?<!\d)\d{4}(?!\d)")),
    ("twodigit", re.compile(r"^\d\d$")),
)


def _shapes(core: str) -> list[str]:
    """Return the shape classes of a token holding digits ("iso", "clock", "year", ...)."""
    return [name for name, regex in _SHAPES if regex.search(core)]


@lru_cache(maxsize=4)
def _cores(lower: str) -> frozenset[str]:
    """Return the distinct white-space tokens of `lower`, stripped of surrounding punctuation.

    Memoised on the text: the publication time (weekday evidence) and the body scan of one
    article both need them.
    """
    return frozenset(map(str.strip, set(lower.split()), repeat(_PUNCT)))


@lru_cache(maxsize=65536)
def _token_triggers(code: str, core: str) -> tuple[tuple[str, ...], tuple[int, ...]]:
    """Return the trigger words inside a non-alphabetic token ("mid-march") and the rules its
    digit shapes trigger ("1987": a year), in language `code` (memoised: tokens recur)."""
    lang = _language(code)
    words = tuple(p for p in _NONWORD.split(core) if p and p in lang.triggers)
    shapes = _shapes(core) if _HAS_DIGIT.search(core) else []
    rules = tuple(sorted({r for shape in shapes for r in lang.digit_rules.get(shape, ())}))
    return words, rules


def _windows(lower: str, lang: Lang) -> dict[int, list[tuple[int, int]]]:
    """Return, per rule index, the merged windows of `lower` around that rule's trigger words."""
    # str.split and set operations are far cheaper than a regex pass over the whole text.
    triggers = lang.triggers
    cores = _cores(lower)
    words = set(cores.intersection(triggers))
    digit_tokens: dict[str, tuple[int, ...]] = {}
    for core in filterfalse(str.isalpha, cores):
        inner, rules = _token_triggers(lang.code, core)
        words.update(inner)
        if rules:
            digit_tokens[core] = rules
    n = len(lower)
    by_rules: dict[tuple[int, ...], list[tuple[int, int]]] = {}
    for token, rules in [*((w, triggers[w]) for w in words), *digit_tokens.items()]:
        size = len(token)
        spans = by_rules.setdefault(rules, [])
        i = lower.find(token)
        while i >= 0:
            end = i + size
            if (i == 0 or not lower[i - 1].isalnum()) and (end == n or not lower[end].isalnum()):
                # The window may start inside a word (the patterns' look-behind sees the text
                # before it) but must not end inside one: a cut word would look like a whole one.
                e = end + _WINDOW
                if e >= n:
                    e = n
                elif lower[e].isalnum():
                    e = _WORD_TAIL.match(lower, e).end()
                spans.append((i - _WINDOW if i > _WINDOW else 0, e))
            i = lower.find(token, end)
    # Merged once per rule: merging a rule's spans group by group sorts them again each time.
    per_rule: dict[int, list[tuple[int, int]]] = {}
    for rules, spans in by_rules.items():
        for r in rules:
            if r in per_rule:
                per_rule[r].extend(spans)
            else:
                per_rule[r] = list(spans)
    return {r: _merge_spans(spans) for r, spans in per_rule.items()}


def _merge_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Return `spans` sorted, with overlapping ones merged."""
    if not spans:
        return []
    spans = sorted(spans)
    merged = [spans[0]]
    for s, e in spans[1:]:
        last_s, last_e = merged[-1]
        if s <= last_e:
            if e > last_e:
                merged[-1] = (last_s, e)
        else:
            merged.append((s, e))
    return merged


def find_dates(article: Article, published: Published) -> list[TemporalExpression]:
    """Return the temporal expressions of `article.body`, resolved against `published`.

    Never raises: an unexpected input yields the expressions found so far (or none).
    """
    try:
        return _find_dates(article, published)
    except Exception:
        return []


def _article_language(article: Article, lower: str) -> Lang:
    """Return the tables for the article's language; for "und" or a language without a data file,
    the language whose month, weekday and day words the text uses most (English if none)."""
    code = article.language.split("-")[0].lower() if isinstance(article.language, str) else ""
    if code in _available():
        return _language(code)
    cores = _cores(lower)
    best, best_hits = FALLBACK_LANGUAGE, len(cores.intersection(_signature(FALLBACK_LANGUAGE)))
    for candidate in _available():
        hits = len(cores.intersection(_signature(candidate)))
        if hits > best_hits:
            best, best_hits = candidate, hits
    return _language(best)


@cache
def _signature(code: str) -> frozenset[str]:
    """Return the words that mark text as written in `code` and in no other language we know:
    its month, weekday, unit, modifier and reference words."""

    def words(c: str) -> set[str]:
        lang = _language(c)
        tables = (lang.months, lang.weekdays, lang.units, lang.modifiers, lang.refs, lang.deictic)
        # Short words ("mai", "set", "ora") prove little.
        return {w for table in tables for w in table if len(w) >= 4 and " " not in w}

    others = set().union(*(words(c) for c in _available() if c != code))
    return frozenset(words(code) - others)


def _find_dates(article: Article, published: Published) -> list[TemporalExpression]:
    body = article.body if isinstance(article.body, str) else ""
    if not body:
        return []
    lower = _lower(body)
    lang = _article_language(article, lower)
    dct = _parse_dct(published)
    candidates: list[Candidate] = []
    # Run each pattern only in windows around its trigger words: most of a text names no time,
    # and a full pass of Python's regex engine costs ~25 ns a character per pattern.
    for index, windows in _windows(lower, lang).items():
        rule = lang.rules[index]
        for ws, we in windows:
            for m in rule.regex.finditer(lower, ws, we):
                start, end = m.span()
                if end > start:
                    candidates.append((start, end, index, rule, m))
    if not candidates:
        return []
    skip = [(s, e) for s, e in (article.boilerplate or []) if isinstance(s, int) and isinstance(e, int)]
    if skip:
        candidates = [c for c in candidates if not any(c[0] < be and bs < c[1] for bs, be in skip)]
    # Longest match wins; among equals, the earlier rule in the data file.
    candidates.sort(key=lambda c: (-(c[1] - c[0]), c[2], c[0]))
    # A reading that cannot be resolved ("quelques jours avant": no number to count back) gives
    # way to the shorter ones inside it; a `block` reading (an age) keeps them out for good.
    for _ in range(3):
        out, failed = _resolve(_select(candidates, len(body)), lang, body, lower, dct, published)
        if not failed:
            break
        spans = [(c[0], c[1]) for c in candidates if id(c) in failed]
        candidates = [c for c in candidates if id(c) not in failed]
        # Only worth another pass if a shorter reading lies inside a failed one ("may" has none).
        if not any(s <= c[0] and c[1] <= e for c in candidates for s, e in spans):
            break
    return out


Candidate = tuple[int, int, int, Rule, re.Match[str]]


def _select(candidates: list[Candidate], size: int) -> list[Candidate]:
    """Return the non-overlapping candidates, longest first, in text order."""
    chosen: list[Candidate] = []
    taken = bytearray(size + 1)
    for cand in candidates:
        s, e = cand[0], cand[1]
        if any(taken[s:e]):
            continue
        if not cand[3].nested:
            taken[s:e] = b"\x01" * (e - s)
        chosen.append(cand)
    chosen.sort(key=lambda c: c[0])
    return chosen


def _resolve(
    chosen: list[Candidate], lang: Lang, body: str, lower: str, dct: date | None, published: Published
) -> tuple[list[TemporalExpression], set[int]]:
    """Return the expressions the chosen candidates resolve to, and the ids of those that failed."""
    ctx = _Context(lang, body, lower, dct, dct, coarse=_is_coarse(published))
    out: list[TemporalExpression] = []
    failed: set[int] = set()
    for cand in chosen:
        s, e, _, rule, m = cand
        groups: dict[str, str] = {}
        ctx.spans = {}
        for k, v in m.groupdict().items():
            if v is not None:
                # "pod2", "decade2": alternatives of one pattern that fill the same slot.
                base = k.rstrip("0123456789")
                groups.setdefault(base, v)
                ctx.spans.setdefault(base, m.start(k))
        try:
            res = _interpret(rule.kind, groups, rule, ctx, s)
        except (ValueError, KeyError, OverflowError, TypeError):
            res = None
        if res is None or not res[0]:
            if rule.kind != "block":
                failed.add(id(cand))
            continue
        value, typ, gran = res
        # Trim a trailing comma or space the pattern swallowed so the span is the expression.
        text = body[s:e]
        stripped = text.rstrip(" ,;")
        e -= len(text) - len(stripped)
        out.append(TemporalExpression(stripped, s, e, value, gran, typ))  # type: ignore[arg-type]
    return out, failed


# ---------------------------------------------------------------------------------------------
# Publication time


@dataclass(slots=True)
class _Reading:
    """A publication time read from one string."""

    value: str
    granularity: str
    confidence: float = 1.0
    alternatives: list[str] = field(default_factory=list)
    note: str | None = None


_ISO = re.compile(
    r"(?P<y>\d{4})(?:-?(?P<m>\d{2})(?:-?(?P<d>\d{2})(?:[T ](?P<H>\d{2}):?(?P<M>\d{2})"
    r"(?::?(?P<S>\d{2})(?:[.,]\d+)?)?)?)?)?\s*(?P<tz>Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?"
)
_NUMERIC_STAMP = re.compile(
    r"(?<!\d)(?P<a>\d{1,2})(?P<sep>[/.-])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})"
    r"(?:,?\s*(?:[àa]|um|at|a las|alle|às|в|о)?\s*"
    r"(?P<H>\d{1,2})[:h.](?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,]\d+)?)?)?"
    r"(?:\s*(?P<tz>Z|UTC|GMT|[+-]\d{2}:?\d{2}))?"
)
_YMD_STAMP = re.compile(
    r"(?<!\d)(?P<y>\d{4})(?P<sep>[/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?!\d)"
    r"(?:[,T\s]\s*(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,]\d+)?)?)?"
    r"(?:\s*(?P<tz>Z|UTC|GMT|[+-]\d{2}:?\d{2}))?"
)
_WORD_MONTH_STAMP = re.compile(
    r"(?P<d>\d{1,2})-(?P<mon>[^\W\d_]{3,})-(?P<y>\d{4})(?:\s+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d+)?)?)?"
)
_MARKER = re.compile(r"^\s*(?:date|published|updated|datum|fecha|data)\s*[:=]?\s*", re.IGNORECASE)
_TIME_IN_TEXT = re.compile(
    r"(?<!\d)(?P<H>[0-2]?\d)\s*[:h.]\s*(?P<M>[0-5]\d)(?::(?P<S>[0-5]\d))?(?!\d)"
    r"(?:\s*(?P<tz>Z|UTC|GMT|[+-]\d\d:?\d\d)(?!\w))?",
    re.IGNORECASE,
)


@cache
def _sources() -> dict[str, dict[str, Any]]:
    """Return the known wire services' conventions, keyed by every name they go by."""
    out: dict[str, dict[str, Any]] = {}
    for spec in _load_data("_sources").get("sources", {}).values():
        for name in spec.get("names", []):
            out[name.lower()] = spec
    return out


def _source_of(article: Article) -> dict[str, Any] | None:
    names = _sources()
    if isinstance(article.source, str) and article.source.strip().lower() in names:
        return names[article.source.strip().lower()]
    for text in (article.credit_line, article.dateline):
        if isinstance(text, str):
            for tag in re.findall(r"\(([^()]{2,40})\)", text):
                if tag.strip().lower() in names:
                    return names[tag.strip().lower()]
    return None


@cache
def _all_months() -> dict[str, int]:
    """Return month names and abbreviations of every language (for stamps like 26-FEB-1987)."""
    out: dict[str, int] = {}
    for code in available_languages():
        out.update(_language(code).months)
    return out


def _zone(tz: str | None) -> timedelta | None:
    if not tz:
        return None
    tz = tz.upper()
    if tz in ("Z", "UTC", "GMT"):
        return timedelta(0)
    m = re.fullmatch(r"([+-])(\d{2}):?(\d{2})?", tz)
    if not m:
        return None
    delta = timedelta(hours=int(m.group(2)), minutes=int(m.group(3) or 0))
    return -delta if m.group(1) == "-" else delta


def _stamp(
    y: int, mo: int, d: int, hh: str | None, mm: str | None, ss: str | None, tz: str | None
) -> _Reading | None:
    """Return the reading of a calendar date and optional clock time (converted to UTC if zoned)."""
    day = _safe_date(y, mo, d)
    if day is None:
        return None
    if hh is None or mm is None:
        return _Reading(day.isoformat(), "day")
    h, mi, sec = int(hh), int(mm), int(ss or 0)
    if h > 23 or mi > 59 or sec > 59:
        return None
    moment = datetime(day.year, day.month, day.day, h, mi, sec)
    gran = "second" if ss is not None else "minute"
    offset = _zone(tz)
    suffix = ""
    if offset is not None:
        moment -= offset
        suffix = "Z"
    text = moment.isoformat(timespec="seconds" if gran == "second" else "minutes")
    return _Reading(text + suffix, gran)


def _weekday_evidence(article: Article, lang: Lang) -> set[int]:
    """Return the ISO weekdays (1-7) the body names, for checking a day/month order."""
    body = article.body if isinstance(article.body, str) else ""
    found: set[int] = set()
    if not body:
        return found
    cores = _cores(_lower(body))
    return {
        lang.weekdays[w]
        for w in cores.intersection(lang.weekdays)
        if w not in lang.extra.get("weekday_abbreviations", {})
    }


def _numeric_reading(
    a: int,
    b: int,
    y: int,
    times: tuple[str | None, str | None, str | None, str | None],
    sep: str,
    order: str | None,
    weekdays: set[int],
    default: str = "dmy",
) -> _Reading | None:
    """Return the reading of a numeric date a/b/y, deciding day/month order from the evidence."""
    readings = {}
    for name, (d, mo) in (("dmy", (a, b)), ("mdy", (b, a))):
        r = _stamp(y, mo, d, *times)
        if r is not None:
            readings[name] = r
    if not readings:
        return None
    if len(readings) == 1 or a == b:
        return next(iter(readings.values()))

    # Both orders are possible: weigh the source's convention against the weekdays the body
    # names ("on Wednesday" usually means the day of publication or the day before).
    def fits(r: _Reading) -> int:
        d = date.fromisoformat(r.value[:10])
        same, before = d.isoweekday(), (d - timedelta(days=1)).isoweekday()
        return sum(2 if w == same else 1 if w == before else 0 for w in weekdays)

    score = {k: fits(r) for k, r in readings.items()}
    by_evidence = None
    if score["dmy"] != score["mdy"]:
        by_evidence = "dmy" if score["dmy"] > score["mdy"] else "mdy"
    if order is None and sep == ".":
        order = "dmy"  # 08.03.2023 is the continental European day-first style
    chosen = by_evidence or order or default
    other = "mdy" if chosen == "dmy" else "dmy"
    r = readings[chosen]
    if by_evidence and (order is None or order == by_evidence):
        r.confidence = 0.95
    elif by_evidence:
        r.confidence = 0.6
        r.alternatives = [readings[other].value]
        r.note = f"day/month order: the body's weekdays say {by_evidence}, the source's convention {order}"
    elif order:
        r.confidence = 0.8
        r.alternatives = [readings[other].value]
        r.note = f"day/month order from the source's or the format's convention ({order})"
    else:
        r.confidence = 0.5
        r.alternatives = [readings[other].value]
        r.note = "day/month order ambiguous"
    return r


def _read_string(
    raw: str, article: Article, lang: Lang, order: str | None, base: datetime, past_only: bool
) -> _Reading | None:
    """Return the publication time written in `raw` (any common format), or None."""
    text = _MARKER.sub("", raw.strip(), count=1).strip()
    if not text:
        return None
    # ISO 8601, whole or partial ("2023-06"), with or without zone.
    m = _ISO.match(text)
    if m and (m.end() == len(text) or not text[m.end()].isalnum()) and (m.group("m") or len(text) == 4):
        y = int(m.group("y"))
        if m.group("d"):
            return _stamp(
                y,
                int(m.group("m")),
                int(m.group("d")),
                m.group("H"),
                m.group("M"),
                m.group("S"),
                m.group("tz"),
            )
        if m.group("m") and 1 <= int(m.group("m")) <= 12 and "-" in text[:8]:
            return _Reading(f"{y:04d}-{int(m.group('m')):02d}", "month")
        if not m.group("m") and 1000 <= y <= 2999:
            return _Reading(f"{y:04d}", "year")
    # RFC 2822: Wed, 08 Mar 2023 20:37:21 +0000
    if re.match(r"^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{1,2}:\d{2}", text):
        try:
            dt = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            dt = None
        if dt is not None:
            gran = "second"
            if dt.tzinfo is not None and not re.search(r"-0000\s*$", text):
                return _Reading(dt.astimezone(UTC).replace(tzinfo=None).isoformat() + "Z", gran)
            return _Reading(dt.replace(tzinfo=None).isoformat(), gran)
    # 26-FEB-1987 15:01:01.79 (Reuters)
    m = _WORD_MONTH_STAMP.search(text)
    if m:
        month = _all_months().get(m.group("mon").lower().rstrip("."))
        if month:
            return _stamp(
                int(m.group("y")), month, int(m.group("d")), m.group("H"), m.group("M"), m.group("S"), None
            )
    # 2023/03/08 20:37: year first is always year, month, day
    m = _YMD_STAMP.search(text)
    if m:
        times = (m.group("H"), m.group("M"), m.group("S"), m.group("tz"))
        return _stamp(int(m.group("y")), int(m.group("m")), int(m.group("d")), *times)
    # 03/08/2023 20:37:21, 08.03.2023, 20:37 Uhr
    m = _NUMERIC_STAMP.search(text)
    if m:
        y = _year_of(m.group("y"), base.date()) or 0
        times = (m.group("H"), m.group("M"), m.group("S"), m.group("tz"))
        return _numeric_reading(
            int(m.group("a")),
            int(m.group("b")),
            y,
            times,
            m.group("sep"),
            order,
            _weekday_evidence(article, lang),
            lang.date_order,
        )
    # Words: "8 mars 2023 à 20h37", "8 de marzo de 2023", "Feb 26": the body scanner, in the
    # article's language first, then in every other.
    codes = [lang.code] + [c for c in available_languages() if c != lang.code]
    dct = Published(base.date().isoformat(), "day", None, "ingest-time")
    for code in codes:
        # Title case: a stamp may write "march 9", which prose rules would take for a verb.
        probe = Article(id="", body=text.title(), language=code)
        scanned = _find_dates(probe, dct)
        found = [
            t
            for t in scanned
            # a written day number: "the day" or "today" in a metadata string is no timestamp
            if t.type == "DATE" and re.fullmatch(r"\d{4}-\d{2}-\d{2}", t.value) and re.search(r"\d", t.text)
        ]
        if not found:
            continue
        first = found[0]
        value = first.value
        # A clock time after the date, as the scanner read it (8:37 p.m., 20h37, 20:37 UTC).
        clock = next(
            (
                t
                for t in scanned
                if t.start >= first.end and t.type == "TIME" and t.value.startswith(value + "T")
            ),
            None,
        )
        ahead = date.fromisoformat(value) - base.date()
        if past_only and ahead > timedelta(days=2) and not re.search(r"\d{4}", first.text):
            # A dateline names the local day it was filed: never after the moment it reached
            # us, give or take the time zones (Tokyo's March 10 is New York's March 9).
            value = f"{int(value[:4]) - 1:04d}{value[4:]}"
        if clock and re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?Z?", clock.value):
            moment = value + clock.value[10:]
            return _Reading(moment, "second" if len(moment.rstrip("Z")) == 19 else "minute")
        tm = _TIME_IN_TEXT.search(text, first.end)
        if tm:
            y, mo, d = (int(x) for x in value.split("-"))
            r = _stamp(y, mo, d, tm.group("H"), tm.group("M"), tm.group("S"), tm.group("tz"))
            if r:
                return r
        return _Reading(value, "day")
    return None


def _read_with_dateparser(raw: str, lang: Lang, base: datetime) -> _Reading | None:
    """Return dateparser's reading of an odd metadata string, or None."""
    try:
        import dateparser
    except ImportError:
        return None
    settings = {
        "RELATIVE_BASE": base.replace(tzinfo=None),
        "PREFER_DATES_FROM": "past",
        "REQUIRE_PARTS": ["month", "year"],
    }
    # The article's language and English only: detecting the language costs tens of ms, and
    # our own reader has already tried every language we know.
    try:
        dt = dateparser.parse(raw, languages=sorted({lang.code, "en"}), settings=settings)
    except Exception:  # dateparser raises many kinds of errors on odd input
        dt = None
    if dt is None:
        return None
    if dt.tzinfo is not None:
        return _Reading(dt.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z", "second")
    has_time = bool(re.search(r"\d{1,2}[:h]\d{2}", raw))
    if has_time:
        return _Reading(dt.isoformat(timespec="minutes"), "minute", confidence=0.8)
    return _Reading(dt.date().isoformat(), "day", confidence=0.8)


def publication_time(article: Article, ingested_at: datetime) -> Published:
    """Return when `article` was published, falling back to `ingested_at` (the broker time).

    Never raises: an unreadable date gives `value` None with the reason in `note`.
    """
    try:
        return _publication_time(article, ingested_at)
    except Exception as exc:
        raw = article.published if isinstance(getattr(article, "published", None), str) else None
        return Published(None, None, raw, "metadata", 0.0, note=f"unreadable date ({type(exc).__name__})")


def _publication_time(article: Article, ingested_at: datetime) -> Published:
    if not isinstance(ingested_at, datetime):
        ingested_at = datetime(1970, 1, 1, tzinfo=UTC)
    base = ingested_at if ingested_at.tzinfo is None else ingested_at.astimezone(UTC)
    body = article.body if isinstance(article.body, str) else ""
    lang = _article_language(article, _lower(body))
    source = _source_of(article)
    order = None
    if source:
        conv = source.get("numeric_order", {})
        order = conv.get(lang.code, conv.get("*"))
    failed: list[tuple[str, str]] = []
    for raw, origin, past_only in (
        (article.published, "metadata", False),
        (article.credit_line, "credit-line", True),
        (article.dateline, "dateline", True),
    ):
        if not isinstance(raw, str) or not raw.strip():
            continue
        reading = _read_string(raw[:500], article, lang, order, base, past_only)
        if reading is None and origin == "metadata" and len(raw) <= 80 and _HAS_DIGIT.search(raw):
            # dateparser is slow (tens of ms without a language): only for short strings that
            # hold a number, as any timestamp does.
            reading = _read_with_dateparser(raw, lang, base)
        if reading is None:
            failed.append((raw, origin))
            continue
        return Published(
            reading.value,
            reading.granularity,
            raw,
            origin,
            reading.confidence,
            reading.alternatives,
            reading.note,  # type: ignore[arg-type]
        )
    if failed and failed[0][1] == "metadata":
        # A date was given but cannot be read: say so rather than pass off the broker time.
        return Published(None, None, failed[0][0], "metadata", 0.0, note="unparseable date")
    line = _date_line(article, lang, base)
    if line is not None:
        return line
    return _ingest_fallback(ingested_at)


def _date_line(article: Article, lang: Lang, base: datetime) -> Published | None:
    """Return the date printed on a line of its own near the top of the body ("March 06, 2008").

    Only a full date (day, month and year) that fills most of a short line counts: a date in
    the first sentence of the story is about the story, not about its publication.
    """
    body = article.body if isinstance(article.body, str) else ""
    offset = 0
    for line in body[:600].split("\n")[:5]:
        stripped = line.strip()
        if 6 <= len(stripped) <= 60:
            probe = Article(id="", body=stripped, language=lang.code)
            dct = Published(base.date().isoformat(), "day", None, "ingest-time")
            for t in _find_dates(probe, dct):
                full = re.fullmatch(r"\d{4}-\d{2}-\d{2}", t.value) and re.search(r"\d{4}", t.text)
                if full and len(t.text) >= 0.6 * len(stripped.replace(" ", "")):
                    start = body.index(stripped, offset) + t.start
                    raw = body[start : start + len(t.text)]
                    return Published(t.value, "day", raw, "text", 0.7)
        offset += len(line) + 1
    return None


def _ingest_fallback(ingested_at: datetime) -> Published:
    if not isinstance(ingested_at, datetime):
        return Published(None, None, None, "ingest-time", 0.0, note="no date and no ingest time")
    if ingested_at.tzinfo is None:
        ingested_at = ingested_at.replace(tzinfo=UTC)
    value = ingested_at.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return Published(value, "second", None, "ingest-time")


__all__ = ["available_languages", "find_dates", "publication_time"]
