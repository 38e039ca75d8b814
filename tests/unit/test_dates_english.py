"""English temporal expressions: spans and TIMEX3 values relative to the publication time."""

from __future__ import annotations

import pytest

from streams.dates import find_dates
from streams.records import Article, Published

# Wednesday 8 March 2023, the day of the AFP seed dispatch.
DCT = Published("2023-03-08T20:37:21", "second", None, "credit-line")


def found(body: str, dct: Published = DCT, language: str = "en") -> dict[str, str]:
    """Return {span text: value} for every expression found in `body`."""
    return {t.text: t.value for t in find_dates(Article(id="t", body=body, language=language), dct)}


@pytest.mark.parametrize(
    ("body", "text", "value"),
    [
        ("It happened on 8 March 2023 in Kyiv.", "8 March 2023", "2023-03-08"),
        ("It happened on March 8, 2023 in Kyiv.", "March 8, 2023", "2023-03-08"),
        ("Talks resumed on Wednesday, March 8.", "Wednesday, March 8", "2023-03-08"),
        ("Prices rose in February 2022 already.", "February 2022", "2022-02"),
        ("The plant opened in 1987 near Detroit.", "1987", "1987"),
        ("The plant opened on 2021-06-30 near Detroit.", "2021-06-30", "2021-06-30"),
    ],
)
def test_absolute_dates_keep_their_granularity(body: str, text: str, value: str) -> None:
    assert found(body)[text] == value


def test_a_bare_month_in_march_refers_to_the_past_november() -> None:
    # "in November" in a March 2023 article is November 2022, not a day in November 2023.
    assert found("Kherson was retaken in November.")["November"] == "2022-11"


def test_a_bare_month_with_future_tense_points_ahead() -> None:
    assert found("The summit will take place in June.")["June"] == "2023-06"


@pytest.mark.parametrize(
    ("body", "text", "value"),
    [
        ("Wagner on Wednesday claimed the east.", "Wednesday", "2023-03-08"),
        ("The attack came on Monday.", "Monday", "2023-03-06"),
        ("He left last Friday.", "last Friday", "2023-03-03"),
        ("She arrives next Monday.", "next Monday", "2023-03-13"),
    ],
)
def test_weekdays_resolve_to_the_nearest_matching_day(body: str, text: str, value: str) -> None:
    assert found(body)[text] == value


@pytest.mark.parametrize(
    ("body", "value"),
    [
        # Friday is nearer ahead (10 March) than behind (3 March); the verb decides.
        ("Officials said Friday that talks would resume.", "2023-03-03"),
        ("He told reporters on Friday he would resign.", "2023-03-03"),
        ("It said it would close on Friday.", "2023-03-10"),
        ("He said so. Friday will be busy.", "2023-03-10"),
        ("The results will be announced Friday.", "2023-03-10"),
        ("The vote will be held on Friday.", "2023-03-10"),
    ],
)
def test_a_past_tense_right_before_a_weekday_governs_it_a_passive_takes_its_auxiliarys(
    body: str, value: str
) -> None:
    assert found(body)["Friday"] == value


@pytest.mark.parametrize(
    ("body", "text", "value"),
    [
        ("Shelling resumed yesterday.", "yesterday", "2023-03-07"),
        ("Officials spoke today.", "today", "2023-03-08"),
        ("Talks continue tomorrow.", "tomorrow", "2023-03-09"),
        ("Explosions were heard yesterday afternoon.", "yesterday afternoon", "2023-03-07TAF"),
        ("Explosions were heard last night.", "last night", "2023-03-07TNI"),
        ("The vote is this morning.", "this morning", "2023-03-08TMO"),
        ("It was revealed on Thursday night.", "Thursday night", "2023-03-02TNI"),
        ("He will speak on Thursday night.", "Thursday night", "2023-03-09TNI"),
    ],
)
def test_deictic_days_and_parts_of_the_day(body: str, text: str, value: str) -> None:
    assert found(body)[text] == value


@pytest.mark.parametrize(
    ("body", "text", "value"),
    [
        ("Sales fell last week.", "last week", "2023-W09"),
        ("Sales fell last month.", "last month", "2023-02"),
        ("Sales will rise next year.", "next year", "2024"),
        ("Sales rose this year.", "this year", "2023"),
        ("Sales fell in the fourth quarter.", "the fourth quarter", "2022-Q4"),
        ("Sales rose in the third quarter of 2009.", "the third quarter of 2009", "2009-Q3"),
    ],
)
def test_units_relative_to_the_publication_time(body: str, text: str, value: str) -> None:
    assert found(body)[text] == value


@pytest.mark.parametrize(
    ("body", "text", "value"),
    [
        ("The city was taken three years ago.", "three years ago", "2020"),
        ("The city was taken two weeks ago.", "two weeks ago", "2023-02-22"),
        ("The city was taken a month ago.", "a month ago", "2023-02"),
    ],
)
def test_ago_expressions_keep_the_unit_granularity(body: str, text: str, value: str) -> None:
    assert found(body)[text] == value


@pytest.mark.parametrize(
    ("body", "text", "value"),
    [
        ("Since last summer, Russian forces have attacked.", "last summer", "2022-SU"),
        ("The offensive is planned for this summer.", "this summer", "2023-SU"),
        ("Prices soared in summer 2021.", "summer 2021", "2021-SU"),
    ],
)
def test_seasons(body: str, text: str, value: str) -> None:
    assert found(body)[text] == value


def test_fall_as_a_verb_is_not_a_season() -> None:
    assert found("Even if Bakhmut were to fall, we will take it back.") == {}


@pytest.mark.parametrize(
    ("body", "text", "value"),
    [
        ("The siege lasted three days.", "three days", "P3D"),
        ("He ran 100 metres in 30 minutes.", "30 minutes", "PT30M"),
        ("A five-year plan was adopted.", "five-year", "P5Y"),
        ("It took almost two and a half years.", "almost two and a half years", "P2.5Y"),
        ("It took several years.", "several years", "PXY"),
    ],
)
def test_durations(body: str, text: str, value: str) -> None:
    assert found(body)[text] == value


def test_ages_are_not_durations() -> None:
    assert found("A 37-year-old man was arrested.") == {}


@pytest.mark.parametrize(
    ("body", "text", "value"),
    [
        ("Convoys arrive every Monday.", "every Monday", "XXXX-WXX-1"),
        ("The report is published weekly.", "weekly", "P1W"),
        ("Inspections happen each year.", "each year", "P1Y"),
    ],
)
def test_sets(body: str, text: str, value: str) -> None:
    assert found(body)[text] == value


@pytest.mark.parametrize(
    ("body", "text", "value"),
    [
        ("The situation is now calm.", "now", "PRESENT_REF"),
        ("He recently said so.", "recently", "PAST_REF"),
        ("We will see in the future.", "the future", "FUTURE_REF"),
    ],
)
def test_vague_references_to_now_the_past_and_the_future(body: str, text: str, value: str) -> None:
    assert found(body)[text] == value


def test_decades() -> None:
    assert found("Cars of the 1990s were boxy.")["the 1990s"] == "199"


def test_clock_times_take_the_date_last_named_and_a_zone_only_when_given() -> None:
    got = found("On Tuesday, the market closed at 16:08 UTC after opening at 9:30 a.m.")
    assert got["Tuesday"] == "2023-03-07"
    assert got["16:08 UTC"] == "2023-03-07T16:08Z"
    assert got["9:30 a.m."] == "2023-03-07T09:30"


def test_the_day_before_is_relative_to_the_date_last_named() -> None:
    got = found("The treaty was signed on 8 May 1945. The day before, Berlin fell.")
    assert got["The day before"] == "1945-05-07"


def test_month_names_in_lower_case_are_not_months() -> None:
    # "may" is a verb and "march" a noun in lower case.
    assert found("Troops may march on the capital.") == {}


def test_offsets_index_the_body_exactly() -> None:
    body = "“We left” — on Wednesday — «sooner»: 8 March 2023."
    for t in find_dates(Article(id="t", body=body, language="en"), DCT):
        assert body[t.start : t.end] == t.text


def test_boilerplate_spans_are_skipped() -> None:
    body = "Fighting went on yesterday.\n03/08/2023 20:37:21 – Chasiv Yar (Ukraine) (AFP)"
    start = body.index("03/08")
    art = Article(id="t", body=body, language="en", boilerplate=[(start, len(body))])
    assert [t.text for t in find_dates(art, DCT)] == ["yesterday"]


def test_without_a_publication_time_relative_values_stay_unresolved() -> None:
    unknown = Published(None, None, "garbage", "metadata", 0.0, note="unparseable date")
    got = found("It happened in November and on 8 March 2023.", unknown)
    assert got["November"] == "XXXX-11"
    assert got["8 March 2023"] == "2023-03-08"


def test_a_month_granular_publication_time_still_anchors_relative_dates() -> None:
    dct = Published("2023-06", "month", "2023-06", "metadata")
    assert found("It started last year.", dct)["last year"] == "2022"


def test_unknown_language_falls_back_to_english_and_numeric_patterns() -> None:
    got = found("Meeting 2023-03-01 and on 8 March 2023.", language="und")
    assert got["2023-03-01"] == "2023-03-01"
    assert got["8 March 2023"] == "2023-03-08"


@pytest.mark.parametrize(
    ("body", "text", "value"),
    [
        ("Prices rose before Christmas.", "Christmas", "2022-12-25"),
        ("It was built in the 20th century.", "the 20th century", "19"),
        ("Talks failed over the weekend.", "the weekend", "2023-W09-WE"),
        ("It was founded years ago.", "years ago", "PAST_REF"),
    ],
)
def test_holidays_centuries_weekends_and_vague_ago(body: str, text: str, value: str) -> None:
    assert found(body)[text] == value


def test_a_month_granular_publication_time_invents_no_day() -> None:
    dct = Published("2023-06", "month", "2023-06", "metadata")
    got = found("On Sunday night and yesterday, as in February of last year.", dct)
    assert got["Sunday night"] == "XXXX-WXX-7TNI"
    assert got["yesterday"] == "2023-06"
    assert got["February of last year"] == "2022-02"


def test_a_quarter_of_something_is_a_fraction_not_a_duration() -> None:
    assert found("About a quarter of the dealers will close.") == {}


def test_day_ranges_give_both_days_the_month() -> None:
    got = found("Talks run between 8 and 10 March 2024, then on 3-5 May.")
    assert got["8"] == "2024-03-08"
    assert got["10 March 2024"] == "2024-03-10"
    assert got["5 May"] == "2023-05-05"


def test_a_span_of_years_is_a_duration_and_its_years_are_dates() -> None:
    got = [
        (t.text, t.value)
        for t in find_dates(Article(id="t", body="Deliveries run from 2009 to 2011.", language="en"), DCT)
    ]
    assert got == [("from 2009 to 2011", "P2Y"), ("2009", "2009"), ("2011", "2011")]


def test_a_number_range_shares_its_unit() -> None:
    assert found("The process would take between 60 and 90 days.")["60"] == "P60D"


@pytest.mark.parametrize(
    ("body", "text", "value"),
    [
        ("Profit fell in the second half.", "the second half", "2022-H2"),
        ("First-half profit rose 5%.", "First-half", "2023-H1"),
        ("Sales rose in the first half of 2009.", "the first half of 2009", "2009-H1"),
        ("Sales will rise in the second half of next year.", "the second half of next year", "2024-H2"),
    ],
)
def test_halves_of_a_year(body: str, text: str, value: str) -> None:
    assert found(body)[text] == value


def test_the_first_half_of_a_month_is_that_month_not_a_half_year() -> None:
    values = found("Prices rose in the first half of June.").values()
    assert values and not any("-H" in value for value in values)
