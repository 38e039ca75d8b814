"""Publication time: metadata in any format, credit lines, datelines, day/month order, zones."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from streams.dates import publication_time
from streams.records import Article

INGESTED = datetime(2023, 3, 9, 10, 0, tzinfo=UTC)
AFP_CREDIT = "03/08/2023 20:37:21 – Chasiv Yar (Ukraine) (AFP) – © 2023 AFP"


def read(**fields: object) -> object:
    fields.setdefault("body", "x")
    return publication_time(Article(id="t", **fields), INGESTED)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "value", "granularity"),
    [
        ("2023-03-08T20:37:21Z", "2023-03-08T20:37:21Z", "second"),
        ("2023-03-08T21:37:21+01:00", "2023-03-08T20:37:21Z", "second"),
        ("2023-03-08T20:37", "2023-03-08T20:37", "minute"),
        ("2023-03-08", "2023-03-08", "day"),
        ("2023-06", "2023-06", "month"),
        ("date 2023-06", "2023-06", "month"),
        ("2023", "2023", "year"),
        ("Wed, 08 Mar 2023 20:37:21 +0100", "2023-03-08T19:37:21Z", "second"),
        ("26-FEB-1987 15:01:01.79", "1987-02-26T15:01:01", "second"),
    ],
)
def test_metadata_formats(raw: str, value: str, granularity: str) -> None:
    pub = read(published=raw)
    assert (pub.value, pub.granularity, pub.origin) == (value, granularity, "metadata")


def test_a_zone_is_never_invented_for_local_time() -> None:
    pub = read(published="2023-03-08 20:37:21")
    assert pub.value == "2023-03-08T20:37:21"


@pytest.mark.parametrize(
    ("raw", "language", "value"),
    [
        ("8 mars 2023 à 20h37", "fr", "2023-03-08T20:37"),
        ("08.03.2023, 20:37 Uhr", "de", "2023-03-08T20:37"),
        ("8. März 2023", "de", "2023-03-08"),
        ("8 de marzo de 2023", "es", "2023-03-08"),
        ("8 marzo 2023", "it", "2023-03-08"),
        ("8 de março de 2023", "pt", "2023-03-08"),
        ("8 березня 2023 року", "uk", "2023-03-08"),
        ("8 марта 2023 г.", "ru", "2023-03-08"),
    ],
)
def test_metadata_written_in_words_in_each_language(raw: str, language: str, value: str) -> None:
    assert read(published=raw, language=language).value == value


def test_a_month_name_in_another_language_than_the_article_is_still_read() -> None:
    assert read(published="8 mars 2023", language="en").value == "2023-03-08"


def test_afp_english_credit_lines_are_month_first() -> None:
    pub = read(credit_line=AFP_CREDIT, language="en", body="Wagner on Wednesday claimed the east.")
    assert (pub.value, pub.origin) == ("2023-03-08T20:37:21", "credit-line")
    assert pub.confidence >= 0.9


def test_a_convention_alone_leaves_the_other_reading_as_an_alternative() -> None:
    pub = read(credit_line=AFP_CREDIT, language="en", body="No weekday here.")
    assert pub.value == "2023-03-08T20:37:21"
    assert pub.alternatives == ["2023-08-03T20:37:21"]
    assert pub.confidence < 0.9


def test_weekdays_in_the_body_decide_the_order_without_a_known_source() -> None:
    credit = "03/08/2023 20:37:21 – Chasiv Yar (Ukraine) – © 2023"
    assert read(credit_line=credit, language="en", body="On Wednesday the army said").value.startswith(
        "2023-03-08"
    )
    assert read(credit_line=credit, language="en", body="On Thursday the army said").value.startswith(
        "2023-08-03"
    )


def test_an_ambiguous_order_without_evidence_says_so() -> None:
    pub = read(credit_line="03/08/2023 20:37 – somewhere", language="fr", body="rien")
    assert pub.alternatives and pub.confidence <= 0.5
    assert pub.note


def test_a_number_above_twelve_makes_the_order_certain() -> None:
    pub = read(published="25/08/2023", language="en")
    assert (pub.value, pub.alternatives) == ("2023-08-25", [])


def test_a_dateline_takes_its_year_from_the_ingest_time_and_never_lies_ahead() -> None:
    pub = read(dateline="SALVADOR, Feb 26 -", source="Reuters")
    assert (pub.value, pub.granularity, pub.origin) == ("2023-02-26", "day", "dateline")
    late = read(dateline="WASHINGTON, Dec 30 -", source="Reuters")
    assert late.value == "2022-12-30"


def test_metadata_wins_over_credit_line_and_dateline() -> None:
    pub = read(published="2023-03-08", credit_line=AFP_CREDIT, dateline="KYIV, March 7 -")
    assert pub.origin == "metadata"


def test_no_date_anywhere_falls_back_to_the_ingest_time() -> None:
    pub = read()
    assert (pub.value, pub.origin) == ("2023-03-09T10:00:00Z", "ingest-time")


def test_an_unreadable_date_is_kept_with_a_note_not_replaced() -> None:
    pub = read(published="the day the music died")
    assert pub.value is None
    assert pub.note
    assert pub.raw == "the day the music died"


def test_a_place_only_dateline_falls_through_to_the_ingest_time() -> None:
    pub = read(dateline="Chassiv Iar")
    assert pub.origin == "ingest-time"


def test_a_dateline_a_day_ahead_is_a_time_zone_not_last_year() -> None:
    # Tokyo's March 10 reaches a New York desk on March 9.
    pub = publication_time(
        Article(id="t", body="x", dateline="TOKYO, March 10 -", source="Reuters"),
        datetime(2023, 3, 9, 21, 0, tzinfo=UTC),
    )
    assert pub.value == "2023-03-10"


def test_a_dateline_in_lower_case_is_still_read() -> None:
    assert read(dateline="Quito, march 7 -").value == "2023-03-07"


def test_a_date_on_a_line_of_its_own_at_the_top_is_read_from_the_text() -> None:
    body = "Apple releases iPhone SDK\nMarch 06, 2008\nDuring a media event on 8 May 1945, Apple..."
    pub = read(body=body)
    assert (pub.value, pub.origin, pub.raw) == ("2008-03-06", "text", "March 06, 2008")


def test_a_date_inside_the_first_sentence_is_not_the_publication_time() -> None:
    pub = read(body="On 8 May 1945 the war in Europe ended, and people danced in the streets of Paris.")
    assert pub.origin == "ingest-time"


@pytest.mark.parametrize(
    ("raw", "language", "value"),
    [
        ("Wednesday, March 8, 2023 at 8:37 pm EST", "en", "2023-03-08T20:37"),
        ("March 8, 2023 8:37:21 PM", "en", "2023-03-08T20:37:21"),
        ("March 8, 2023 20:37 UTC", "en", "2023-03-08T20:37Z"),
        ("8 de marzo de 2023 a las 20:37 horas", "es", "2023-03-08T20:37"),
    ],
)
def test_written_dates_with_clock_times_keep_am_pm_and_only_stated_zones(
    raw: str, language: str, value: str
) -> None:
    assert read(published=raw, language=language).value == value


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        ("2023/03/08 20:37", "2023-03-08T20:37"),
        ("Wed Mar  8 20:37:21 2023", "2023-03-08T20:37:21"),
        ("Mar 8th 2023 8:37pm", "2023-03-08T20:37"),
    ],
)
def test_other_common_stamp_layouts(raw: str, value: str) -> None:
    assert read(published=raw, language="en").value == value
