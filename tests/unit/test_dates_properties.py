"""Property tests: no input crashes the dates stage, and every value is well-formed TIMEX3."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streams.dates import _find_dates, _publication_time, available_languages, find_dates, publication_time
from streams.records import Article, Published

# TIMEX3 values this stage may produce: calendar dates at any granularity (with an optional
# clock time or part of day and a zone), ISO weeks and weekends, quarters, seasons, decades and
# centuries, the vague references, durations and sets.
TIMEX3_VALUE = re.compile(
    r"""^(?:
        (?:\d{4}|XXXX)(?:-(?:\d{2}|XX)(?:-(?:\d{2}|XX))?)?
            (?:T(?:\d{2}(?::\d{2}(?::\d{2})?)?|MO|MI|AF|EV|NI|DT)(?:Z|[+-]\d{2}(?::?\d{2})?)?)?
      | \d{4}-W\d{2}(?:-WE)?
      | XXXX-WXX-[1-7](?:T(?:MO|MI|AF|EV|NI))?
      | (?:\d{4}|XXXX)-Q[1-4]
      | (?:\d{4}|XXXX)-(?:SP|SU|FA|WI)
      | \d{3}X? | \d{2}
      | (?:PRESENT|PAST|FUTURE)_REF
      | P(?:\d+(?:\.\d+)?|X)(?:Y|M|W|D|Q|WE)
      | PT(?:\d+(?:\.\d+)?|X)(?:H|M|S)
    )$""",
    re.VERBOSE,
)
ISO_PUBLISHED = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2}(?:T\d{2}:\d{2}(?::\d{2})?Z?)?)?)?$")

# Text that looks like news: date words of every language mixed with noise and digits.
WORDS = [
    "on",
    "Wednesday",
    "March",
    "8",
    "2023",
    "last",
    "week",
    "yesterday",
    "ago",
    "three",
    "days",
    "le",
    "6",
    "mai",
    "dernier",
    "hier",
    "soir",
    "l'été",
    "il y a",
    "une",
    "semaine",
    "à",
    "21 h 45",
    "vor",
    "zwei",
    "Wochen",
    "8.",
    "März",
    "hace",
    "dos",
    "semanas",
    "fa",
    "тижні",
    "тому",
    "березня",
    "марта",
    "назад",
    "03/08/2023",
    "2023-03-08",
    "20:37",
    "p.m.",
    "1990s",
    "années",
    "60",
    "Q3",
    "the",
    "day",
    "before",
    "every",
    "Monday",
    "quarter",
    "'82",
    "mid-2011",
    "-",
    ",",
    ".",
    "\n",
    "€",
    "%",
    "’",
    "ʼ",
    "İ",
    "ß",
]
bodies = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(WORDS), max_size=60).map(" ".join),
)
languages = st.one_of(
    st.sampled_from([*available_languages(), "und", "zh", ""]), st.none(), st.text(max_size=5)
)
dct_values = st.one_of(
    st.none(),
    st.sampled_from(
        ["2023-03-08", "2023-03-08T20:37:21Z", "2023-06", "2023", "1999-12-31", "0001-01-01", "9999-12-31"]
    ),
    st.text(max_size=12),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    body=bodies,
    language=languages,
    dct=dct_values,
    spans=st.lists(st.tuples(st.integers(-5, 400), st.integers(-5, 400)), max_size=3),
)
def test_find_dates_never_raises_and_values_are_timex3(
    body: str, language: str | None, dct: str | None, spans: list
) -> None:
    art = Article(id="p", body=body, language=language, boilerplate=spans)
    published = Published(dct, "day", None, "metadata")
    # The inner function: the public one also catches, which would hide a crash from this test.
    for t in _find_dates(art, published):
        assert body[t.start : t.end] == t.text
        assert t.text.strip() == t.text and t.text
        assert TIMEX3_VALUE.match(t.value), t.value
        assert t.type in ("DATE", "TIME", "DURATION", "SET")
    assert isinstance(find_dates(art, published), list)


raw_dates = st.one_of(
    st.none(),
    st.text(max_size=40),
    st.lists(
        st.sampled_from([*WORDS, "26-FEB-1987", "15:01:01.79", "Wed,", "+0100", "Uhr", "de"]), max_size=8
    ).map(" ".join),
)


@settings(max_examples=300, deadline=None)
@given(
    published=raw_dates,
    credit=raw_dates,
    dateline=raw_dates,
    body=bodies,
    language=languages,
    source=st.one_of(st.none(), st.sampled_from(["AFP", "Reuters", "AP", "x"])),
    offset=st.integers(-24, 24),
    naive=st.booleans(),
)
def test_publication_time_never_raises_and_is_iso_or_explained(
    published: str | None,
    credit: str | None,
    dateline: str | None,
    body: str,
    language: str | None,
    source: str | None,
    offset: int,
    naive: bool,
) -> None:
    art = Article(
        id="p",
        body=body,
        published=published,
        credit_line=credit,
        dateline=dateline,
        language=language,
        source=source,
    )
    ingested = datetime(2023, 3, 9, 10, 0, tzinfo=UTC) + timedelta(hours=offset)
    if naive:
        ingested = ingested.replace(tzinfo=None)
    pub = _publication_time(art, ingested)  # the inner function: a crash must surface here
    assert pub.origin in ("metadata", "credit-line", "dateline", "text", "ingest-time")
    if pub.value is None:
        assert pub.note
    else:
        assert ISO_PUBLISHED.match(pub.value), pub.value
        assert pub.granularity in ("year", "month", "day", "minute", "second")
        assert 0.0 <= pub.confidence <= 1.0
    assert publication_time(art, ingested) == pub


@given(st.text(alphabet=".!?\n \tab\r\u00a0", max_size=40))
def test_sentence_ends_are_full_stops_before_white_space_and_line_breaks(text: str) -> None:
    from streams.dates import _SENTENCE_END

    assert [m.start() for m in _SENTENCE_END.finditer(text)] == [
        m.start() for m in re.finditer(r"[.!?](?=\s)|\n", text)
    ]
