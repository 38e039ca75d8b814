"""French temporal expressions (French TimeBank conventions: the determiner is in the span)."""

from __future__ import annotations

import pytest

from streams.dates import find_dates
from streams.records import Article, Published

# Wednesday 8 March 2023.
DCT = Published("2023-03-08", "day", None, "metadata")


def found(body: str, dct: Published = DCT) -> dict[str, str]:
    """Return {span text: value} for every expression found in `body`."""
    return {t.text: t.value for t in find_dates(Article(id="t", body=body, language="fr"), dct)}


@pytest.mark.parametrize(
    ("body", "text", "value"),
    [
        ("Il est arrivé le 6 mai dernier.", "le 6 mai dernier", "2022-05-06"),
        ("La réunion aura lieu samedi 11 mars.", "samedi 11 mars", "2023-03-11"),
        ("Il est né le 27 mai 1998, à Nancy.", "le 27 mai 1998", "1998-05-27"),
        ("Les otages ont été libérés en mai 1988, avant.", "mai 1988", "1988-05"),
        ("Il est mort le 1er septembre 1939.", "le 1er septembre 1939", "1939-09-01"),
        ("C'était le 10 novembre 93.", "le 10 novembre 93", "1993-11-10"),
    ],
)
def test_absolute_dates(body: str, text: str, value: str) -> None:
    assert found(body)[text] == value


@pytest.mark.parametrize(
    ("body", "text", "value"),
    [
        ("Le gouvernement a réagi le mois dernier.", "le mois dernier", "2023-02"),
        ("Il reviendra l'an prochain.", "l'an prochain", "2024"),
        ("Ils ont voté l'année dernière.", "l'année dernière", "2022"),
        ("Le sommet a lieu cette semaine.", "cette semaine", "2023-W10"),
        ("Il a plu ce week-end.", "ce week-end", "2023-W10-WE"),
    ],
)
def test_units_with_dernier_prochain_and_ce(body: str, text: str, value: str) -> None:
    assert found(body)[text] == value


@pytest.mark.parametrize(
    ("body", "text", "value"),
    [
        ("Il a parlé dimanche soir à la télévision.", "dimanche soir", "2023-03-05TEV"),
        ("Elle est partie lundi.", "lundi", "2023-03-06"),
        ("Il est parti vendredi dernier.", "vendredi dernier", "2023-03-03"),
        ("Il reviendra lundi prochain.", "lundi prochain", "2023-03-13"),
    ],
)
def test_weekdays(body: str, text: str, value: str) -> None:
    assert found(body)[text] == value


@pytest.mark.parametrize(
    ("body", "text", "value"),
    [
        ("Il est arrivé hier.", "hier", "2023-03-07"),
        ("Il est arrivé hier soir.", "hier soir", "2023-03-07TEV"),
        ("Il est arrivé hier en début d'après-midi.", "hier en début d'après-midi", "2023-03-07TAF"),
        ("Il part demain.", "demain", "2023-03-09"),
        ("Il a neigé ce matin.", "ce matin", "2023-03-08TMO"),
    ],
)
def test_deictic_days_and_parts_of_the_day(body: str, text: str, value: str) -> None:
    assert found(body)[text] == value


def test_lendemain_is_relative_to_the_date_last_named() -> None:
    got = found("Le traité fut signé le 8 mai 1945. Le lendemain, la fête commença.")
    assert got["Le lendemain"] == "1945-05-09"


@pytest.mark.parametrize(
    ("body", "text", "value"),
    [
        ("Depuis l'été dernier, les forces russes attaquent.", "l'été dernier", "2022-SU"),
        ("Il fait froid en hiver.", "hiver", "XXXX-WI"),
    ],
)
def test_seasons(body: str, text: str, value: str) -> None:
    assert found(body)[text] == value


def test_ete_as_a_past_participle_is_not_summer() -> None:
    assert found("Il a été arrêté par la police.") == {}


@pytest.mark.parametrize(
    ("body", "text", "value"),
    [
        ("Il devance Irvine de 30,4 secondes.", "30,4 secondes", "PT30.4S"),
        ("La grève a duré trois jours.", "trois jours", "P3D"),
        ("Il a fallu plus de vingt ans.", "plus de vingt ans", "P20Y"),
        ("Il a attendu dix-huit mois.", "dix-huit mois", "P18M"),
        ("Cela prend quelques jours.", "quelques jours", "PXD"),
    ],
)
def test_durations(body: str, text: str, value: str) -> None:
    assert found(body)[text] == value


def test_ages_are_not_durations() -> None:
    assert found("Un homme de 37 ans a été interpellé.") == {}


@pytest.mark.parametrize(
    ("body", "text", "value"),
    [
        ("Le marché se tient tous les jeudis.", "tous les jeudis", "XXXX-WXX-4"),
        ("La fête revient chaque année.", "chaque année", "P1Y"),
    ],
)
def test_sets(body: str, text: str, value: str) -> None:
    assert found(body)[text] == value


@pytest.mark.parametrize(
    ("body", "text", "value"),
    [
        ("Il vit maintenant à Paris.", "maintenant", "PRESENT_REF"),
        ("Poutine a récemment affirmé cela.", "récemment", "PAST_REF"),
        ("On verra à l'avenir.", "à l'avenir", "FUTURE_REF"),
    ],
)
def test_vague_references(body: str, text: str, value: str) -> None:
    assert found(body)[text] == value


def test_clock_times_take_the_date_last_named() -> None:
    got = found("Rendez-vous samedi 11 mars à 21 h 45.")
    assert got["21 h 45"] == "2023-03-11T21:45"


def test_apres_midi_holds_no_midi() -> None:
    got = found("Il est arrivé en fin d'après-midi.")
    assert "midi" not in got


def test_decades_follow_the_french_timebank_form() -> None:
    assert found("Au début des années 60, tout changea.")["début des années 60"] == "196X"


@pytest.mark.parametrize(
    ("body", "text", "value"),
    [
        ("Il est rentré pour Noël.", "Noël", "2022-12-25"),
        ("Une guerre du XXe siècle.", "XXe siècle", "19"),
        ("Il a plu le week-end.", "le week-end", "2023-W09-WE"),
        ("Les Jeux d'hiver commencent.", None, None),
    ],
)
def test_holidays_centuries_weekends(body: str, text: str | None, value: str | None) -> None:
    got = found(body)
    if text is None:
        assert got == {}
    else:
        assert got[text] == value


def test_a_month_of_last_year_is_one_expression() -> None:
    assert found("Dès février de l'année dernière, rien.")["février de l'année dernière"] == "2022-02"


def test_dimanche_soir_in_an_article_dated_only_by_month_stays_a_sunday_evening() -> None:
    dct = Published("2023-06", "month", "2023-06", "metadata")
    assert (
        found("Zelensky n'en a rien dit dans son discours dimanche soir.", dct)["dimanche soir"]
        == "XXXX-WXX-7TEV"
    )


def test_aujourdhui_set_off_by_a_comma_means_nowadays() -> None:
    assert found("Aujourd'hui, la ville a changé.")["Aujourd'hui"] == "PRESENT_REF"
    assert found("Il se rend aujourd'hui à Toulouse.")["aujourd'hui"] == "2023-03-08"


def test_le_mercredi_alone_is_a_habit() -> None:
    assert found("Le marché a lieu le mercredi.")["le mercredi"] == "XXXX-WXX-3"
    assert found("Il viendra le mercredi 15 mars.")["le mercredi 15 mars"] == "2023-03-15"


def test_an_age_range_is_not_a_duration() -> None:
    assert found("Un stage pour les enfants de 2 à 8 ans.") == {}


def test_the_first_day_of_a_pair_takes_the_month_named_after_the_second() -> None:
    got = found("Le vote aura lieu les 6 et 13 avril prochains, le stage du 19 au 23 juillet.")
    assert got["les 6"] == "2023-04-06"
    assert got["19"] == "2023-07-19"


def test_an_unresolvable_reading_gives_way_to_the_duration_inside_it() -> None:
    # "quelques jours avant" has no number to count back with; "quelques jours" remains.
    assert found("Ils ont été libérés quelques jours avant le vote.")["quelques jours"] == "PXD"


def test_years_of_something_are_a_duration_not_an_age() -> None:
    assert found("Au terme de trois ans de tractations, l'accord est signé.")["trois ans"] == "P3Y"


def test_en_ete_is_summer() -> None:
    assert found("La demande augmente en été.")["été"] == "XXXX-SU"


@pytest.mark.parametrize(
    ("body", "text", "value"),
    [
        ("Le bénéfice a reculé au second semestre.", "au second semestre", "2022-H2"),
        ("Les ventes ont progressé au premier semestre 2009.", "au premier semestre 2009", "2009-H1"),
        ("Il paie par semestre.", "par semestre", "P6M"),
    ],
)
def test_semestres(body: str, text: str, value: str) -> None:
    assert found(body)[text] == value
