"""German, Spanish, Italian, Portuguese, Ukrainian, Russian: dates and common relative expressions."""

from __future__ import annotations

import pytest

from streams.dates import _language, available_languages, find_dates
from streams.records import Article, Published

DCT = Published("2023-03-08", "day", None, "metadata")  # a Wednesday


def found(body: str, language: str) -> dict[str, str]:
    return {t.text: t.value for t in find_dates(Article(id="t", body=body, language=language), DCT)}


CASES = [
    ("de", "Am Mittwoch, 8. März 2023 kam er.", "Mittwoch, 8. März 2023", "2023-03-08"),
    ("de", "Das war letzte Woche.", "letzte Woche", "2023-W09"),
    ("de", "Das war vor zwei Wochen.", "vor zwei Wochen", "2023-02-22"),
    ("de", "Er kam gestern Abend.", "gestern Abend", "2023-03-07TEV"),
    ("de", "Das war im vergangenen Jahr.", "im vergangenen Jahr", "2022"),
    ("de", "Er kam um 20:37 Uhr.", "20:37 Uhr", "2023-03-08T20:37"),
    ("es", "Llegó el 8 de marzo de 2023.", "el 8 de marzo de 2023", "2023-03-08"),
    ("es", "Ocurrió hace dos semanas.", "hace dos semanas", "2023-02-22"),
    ("es", "Fue la semana pasada.", "la semana pasada", "2023-W09"),
    ("es", "Llegó anoche.", "anoche", "2023-03-07TNI"),
    ("es", "Fue el verano pasado.", "verano pasado", "2022-SU"),
    ("it", "È arrivato l'8 marzo 2023.", "l'8 marzo 2023", "2023-03-08"),
    ("it", "È successo due settimane fa.", "due settimane fa", "2023-02-22"),
    ("it", "È arrivato ieri sera.", "ieri sera", "2023-03-07TEV"),
    ("it", "Lo vedremo la prossima settimana.", "la prossima settimana", "2023-W11"),
    ("pt", "Chegou em 8 de março de 2023.", "8 de março de 2023", "2023-03-08"),
    ("pt", "Aconteceu há duas semanas.", "há duas semanas", "2023-02-22"),
    ("pt", "Foi no ano passado.", "no ano passado", "2022"),
    ("uk", "Це сталося 8 березня 2023 року.", "8 березня 2023 року", "2023-03-08"),
    ("uk", "Це сталося два тижні тому.", "два тижні тому", "2023-02-22"),
    ("uk", "Це сталося минулого тижня.", "минулого тижня", "2023-W09"),
    ("uk", "Він прийшов вчора ввечері.", "вчора ввечері", "2023-03-07TEV"),
    ("ru", "Это случилось 8 марта 2023 года.", "8 марта 2023 года", "2023-03-08"),
    ("ru", "Это случилось две недели назад.", "две недели назад", "2023-02-22"),
    ("ru", "Это случилось на прошлой неделе.", "на прошлой неделе", "2023-W09"),
    ("ru", "Он вернётся через три дня.", "через три дня", "2023-03-11"),
]


@pytest.mark.parametrize(("language", "body", "text", "value"), CASES)
def test_common_expressions_per_language(language: str, body: str, text: str, value: str) -> None:
    assert found(body, language)[text] == value


def test_every_language_file_loads_and_every_pattern_can_be_triggered() -> None:
    # A pattern no trigger word reaches would silently never run.
    for code in available_languages():
        lang = _language(code)
        reachable = {i for rules in lang.triggers.values() for i in rules}
        reachable |= {i for rules in lang.digit_rules.values() for i in rules}
        unreachable = [
            i for i, rule in enumerate(lang.rules) if i not in reachable and "(?!)" not in rule.regex.pattern
        ]
        assert not unreachable, (code, unreachable)


def test_a_region_subtag_uses_the_language_file() -> None:
    assert found("Es geschah gestern.", "de-AT")["gestern"] == "2023-03-07"


@pytest.mark.parametrize(
    ("language", "body", "text", "value"),
    [
        ("und", "Il est arrivé hier, mardi 7 mars.", "hier", "2023-03-07"),
        ("und", "Он приехал вчера, 7 марта.", "вчера", "2023-03-07"),
        (None, "Er kam gestern, am Dienstag.", "gestern", "2023-03-07"),
        ("nl", "It happened yesterday.", "yesterday", "2023-03-07"),
    ],
)
def test_an_unknown_language_is_guessed_from_the_date_words_it_uses(
    language: str | None, body: str, text: str, value: str
) -> None:
    got = {t.text: t.value for t in find_dates(Article(id="t", body=body, language=language), DCT)}
    assert got[text] == value


@pytest.mark.parametrize(
    ("language", "body"),
    [
        ("pt", "Pela segunda vez, a quarta equipa venceu."),  # ordinals, not Monday and Wednesday
        ("de", "Am Morgen war es kalt."),  # the morning, not tomorrow
        ("es", "Antes de la guerra había paz."),  # "antes de" is no point in time
    ],
)
def test_words_that_only_look_like_dates(language: str, body: str) -> None:
    assert found(body, language) == {}


@pytest.mark.parametrize(
    ("language", "body", "text", "value"),
    [
        ("es", "El presidente dijo el martes que la guerra durará meses.", "martes", "2023-03-07"),
        (
            "pt",
            "O presidente disse na terça-feira que a guerra vai durar meses.",
            "terça-feira",
            "2023-03-07",
        ),
        ("ru", "В 2022 году ВВП вырос.", "2022 году", "2022"),
        ("uk", "У 2022 році ВВП зріс.", "2022 році", "2022"),
        ("pt", "A cimeira começa às 15h30.", "15h30", "2023-03-08T15:30"),
    ],
)
def test_reported_speech_years_with_case_endings_and_clock_times(
    language: str, body: str, text: str, value: str
) -> None:
    assert found(body, language)[text] == value
