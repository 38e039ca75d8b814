"""Unit tests of the places stage: spotting, matching rules, disambiguation, focus."""

from __future__ import annotations

from pathlib import Path

import pytest

from streams import gazetteer
from streams.places import resolve_places, resolve_spans
from streams.records import Article

SEEDS = Path(__file__).resolve().parents[2] / "seeds"

BAKHMUT, CHASIV_YAR, KYIV, KHARKIV, MOSCOW = 713174, 710915, 703448, 706483, 524901
DONETSK_OBLAST, KOSTIANTYNIVKA, POKROVSK_UA, STOCKHOLM, WASHINGTON_DC = (
    709716,
    705104,
    704422,
    2673730,
    4140963,
)


def places_of(body: str, language: str = "en", **kw) -> dict[str, tuple[int, str | None, str]]:
    """Return {mention text: (geonameid, country, kind)} for every mention found in `body`."""
    places, _ = resolve_places(Article(id="t", body=body, language=language, **kw))
    return {m.text: (p.geonameid, p.country_code, p.kind) for p in places for m in p.mentions}


def test_fold_and_skeleton_meet_across_spellings() -> None:
    assert gazetteer.fold("Zaporij-jia’s") == "zaporij jias"
    sk = gazetteer.skeleton
    assert sk(gazetteer.fold("Chassiv Iar")) == sk(gazetteer.fold("Chasiv Yar"))
    assert sk(gazetteer.fold("Zaporijia")) == sk(gazetteer.fold("Zaporizhzhia"))
    assert sk(gazetteer.fold("Bakhmout")) == sk(gazetteer.fold("Bakhmut"))
    assert sk(gazetteer.fold("Kyiv")) != sk(gazetteer.fold("Kharkiv"))


@pytest.mark.parametrize(
    "name", ["Chassiv Iar", "De Soto", "Port Townsend", "Saint-Pierre-et-Miquelon", "Ss Ss"]
)
def test_multiword_skeleton_is_its_word_skeletons_joined(name: str) -> None:
    key = gazetteer.fold(name)
    words = [gazetteer.skeleton(w) for w in key.split(" ")]
    assert gazetteer.join_skeletons(words) == gazetteer.skeleton(key)


def test_capitalised_word_inside_a_longer_word_is_not_spotted() -> None:
    assert "Paris" not in places_of("The 3Paris and xParis accounts were closed.")
    assert places_of("Les 3Paris ont fermé, Paris reste ouvert.", "fr")["Paris"][1] == "FR"


@pytest.mark.parametrize(
    ("body", "mention", "geonameid"),
    [
        ("Shelling continued in Bakhmout on Tuesday.", "Bakhmout", BAKHMUT),
        ("Civilians arrived in Chassiv Iar after a long drive.", "Chassiv Iar", CHASIV_YAR),
        ("The delegation flew to Kiev on Monday.", "Kiev", KYIV),
        ("The delegation flew to Kyiv on Monday.", "Kyiv", KYIV),
        ("Missiles struck Kharkov overnight, officials said.", "Kharkov", KHARKIV),
        ("Les civils ont quitté Bakhmout pour Kharkiv.", "Bakhmout", BAKHMUT),
        ("La délégation est arrivée à Moscou mardi.", "Moscou", MOSCOW),
    ],
)
def test_transliterations_and_alternate_names(body: str, mention: str, geonameid: int) -> None:
    assert places_of(body)[mention][0] == geonameid


def test_zaporijia_is_the_city_on_the_dnieper() -> None:
    found = places_of("Des frappes ont visé Zaporijia et Kherson dans la nuit.", "fr")
    gid, cc, kind = found["Zaporijia"]
    assert (cc, kind) == ("UA", "city")
    g = gazetteer.load()
    idx = next(i for i in range(len(g)) if g.geonameid[i] == gid)
    assert g.population[idx] > 500000


@pytest.mark.parametrize(
    ("body", "language"),
    [
        ("Fighting raged across the Donetsk Oblast this week.", "en"),
        ("Fighting raged across the Donetsk region this week.", "en"),
        ("Les combats font rage dans la région de Donetsk.", "fr"),
    ],
)
def test_qualified_forms_name_the_oblast(body: str, language: str) -> None:
    found = places_of(body, language)
    assert any(v == (DONETSK_OBLAST, "UA", "admin1") for v in found.values()), found


def test_unqualified_name_shared_with_a_big_city_is_the_city() -> None:
    found = places_of("Russian missiles hit Kharkiv and Donetsk on Sunday.")
    assert found["Kharkiv"][2] == "city"
    assert found["Donetsk"][2] == "city"


def test_paris_texas_follows_its_qualifier() -> None:
    found = places_of("The storm flooded streets in Paris, Texas, on Friday.")
    _gid, cc, kind = found["Paris"]
    assert (cc, kind) == ("US", "city")
    assert found["Texas"][2] == "admin1"
    assert places_of("The summit opened in Paris on Friday.")["Paris"][1] == "FR"


def test_kostiantynivka_beside_bakhmut_is_the_donetsk_oblast_city() -> None:
    found = places_of("Troops pulled back from Bakhmut to Kostiantynivka, 20 km to the west.")
    assert found["Kostiantynivka"][0] == KOSTIANTYNIVKA


def test_co_occurring_places_pick_the_local_namesake() -> None:
    found = places_of("Police in Gainesville and Hall County said the suspect fled toward Atlanta, Georgia.")
    assert found["Gainesville"][1] == "US"
    g = gazetteer.load()
    idx = next(i for i in range(len(g)) if g.geonameid[i] == found["Gainesville"][0])
    assert g.admin1[idx] == "US.GA"


def test_people_are_not_places() -> None:
    found = places_of("The film stars Denzel Washington and was shot last year.")
    assert "Washington" not in found
    found = places_of("Mr. Paris said the Washington Post had the story first.")
    assert not found


def test_organisations_are_not_places() -> None:
    found = places_of(
        "The paramilitary group Wagner claimed Bakhmut. Wagner leader Yevgeny Prigozhin spoke from Bakhmut."
    )
    assert "Wagner" not in found
    assert found["Bakhmut"][0] == BAKHMUT


@pytest.mark.parametrize(
    ("body", "language"),
    [
        ("Mobile phones were seized. The mobile network failed.", "en"),
        ("Police said the driver fled. Reading the report took hours.", "en"),
        ("Mais la ville a tenu. Cela reste fragile, selon le maire.", "fr"),
        ("Mars a été un mois difficile. En mai, les combats ont repris.", "fr"),
    ],
)
def test_common_words_are_not_places(body: str, language: str) -> None:
    assert places_of(body, language) == {}


def test_demonyms_name_their_country() -> None:
    found = places_of("Ukrainian forces repelled a Russian assault.")
    assert found["Ukrainian"][:2] == (690791, "UA")
    assert found["Russian"][1] == "RU"
    assert places_of("Les Russes ont reculé.", "fr")["Russes"][1] == "RU"


def test_us_abbreviation_only_in_capitals() -> None:
    assert places_of("The U.S. embassy issued a warning.")["U.S."][1] == "US"
    assert places_of("Give us a call.") == {}


def test_dateline_sets_the_focus() -> None:
    body = "A small group of civilians emerges from an armored vehicle in Chassiv Iar, near Bakhmout."
    _places, focus = resolve_places(Article(id="t", body=body, language="en", dateline="Chassiv Iar"))
    assert focus.place == CHASIV_YAR
    assert focus.country_code == "UA"


def test_focus_without_dateline_is_the_most_named_place() -> None:
    body = "Pokrovsk has not fallen. In Pokrovsk, soldiers hold the north. Ukraine says Pokrovsk stands."
    _, focus = resolve_places(Article(id="t", body=body, language="en"))
    assert focus.place == POKROVSK_UA
    assert focus.country_code == "UA"


def test_mentions_index_the_body_and_skip_boilerplate() -> None:
    body = "Troops entered Bakhmut. Photo: Kyiv Independent / Stockholm"
    cut = body.index("Photo")
    places, _ = resolve_places(Article(id="t", body=body, boilerplate=[(cut, len(body))]))
    for p in places:
        for m in p.mentions:
            assert body[m.start : m.end] == m.text
            assert m.start < cut
        assert 0.0 <= p.score <= 1.0


@pytest.mark.parametrize(
    "body",
    ["", " ", "\x00\ufffd", "A" * 5000, "É" * 10, "U.S." * 50, "(" * 100, "Paris, " * 300, "\n\n\n"],
)
def test_never_raises(body: str, caplog: pytest.LogCaptureFixture) -> None:
    places, focus = resolve_places(Article(id="t", body=body, boilerplate=[(5, 2), (-1, 10**9)]))
    assert isinstance(places, list)
    assert focus is not None
    # Odd input is handled, not swallowed by the stage's last-resort guard.
    assert "resolution failed" not in caplog.text
    places, _ = resolve_places(Article(id="t", body=body))
    assert "resolution failed" not in caplog.text


def test_wrong_types_do_not_raise() -> None:
    art = Article(id="t", body="Troops entered Bakhmut.", dateline=12, boilerplate=[("a", None)])  # type: ignore[arg-type]
    places, focus = resolve_places(art)
    assert isinstance(places, list)
    assert focus is not None


def test_resolve_spans_shares_the_disambiguation() -> None:
    body = "Gainesville police said Hall County deputies helped. Paris, Texas, sent aid."
    spans = [(0, 11), (24, 35), (53, 58), (60, 65), (0, 3)]
    out = resolve_spans(body, spans, "en")
    assert out[0] is not None and out[0].country_code == "US"
    assert out[1] is not None and out[1].kind == "admin2"
    assert out[2] is not None and out[2].country_code == "US"
    assert out[3] is not None and out[3].kind == "admin1"
    assert out[4] is None


def _seed(name_prefix: str) -> str:
    return next(SEEDS.glob(f"{name_prefix}_*.txt")).read_text(encoding="utf-8")


def test_seed_000_reads_as_a_reader_would() -> None:
    body = _seed("000")
    found = places_of(body, "en", dateline="Chassiv Iar")
    assert found["Chassiv Iar"][0] == CHASIV_YAR
    assert found["Bakhmout"][0] == BAKHMUT
    assert found["Kyiv"][0] == KYIV
    assert found["Moscow"][0] == MOSCOW
    assert found["Kharkiv"][0] == KHARKIV
    assert found["Kostiantynivka"][0] == KOSTIANTYNIVKA
    assert found["Kherson"][1:] == ("UA", "city")
    assert "Wagner" not in found


def test_seed_001_reads_as_a_reader_would() -> None:
    found = places_of(_seed("001"), "en")
    assert found["Kiev"][0] == KYIV
    assert found["Washington"][0] == WASHINGTON_DC
    assert found["Stockholm"][0] == STOCKHOLM
    assert found["Chasiv Yar"][0] == CHASIV_YAR
    assert "Wagner" not in found
    assert "Haines" not in found


def test_seed_002_french_pokrovsk() -> None:
    found = places_of(_seed("002"), "fr")
    assert found["Pokrovsk"][0] == POKROVSK_UA
    assert found["Ukraine"][1] == "UA"
    assert "Yuri" not in found
    assert "Skala" not in found


def test_seed_003_french_bakhmut_and_donetsk_region() -> None:
    body = _seed("003")
    places, _ = resolve_places(Article(id="t", body=body, language="fr"))
    by_text = {(m.text, m.start): p for p in places for m in p.mentions}
    assert all(p.geonameid == BAKHMUT for (t, _), p in by_text.items() if t == "Bakhmut")
    region = body.index("région de Donetsk") + len("région de ")
    assert by_text[("Donetsk", region)].geonameid == DONETSK_OBLAST
    assert any(t == "Kiev" and p.geonameid == KYIV for (t, _), p in by_text.items())
    assert not any(t in ("Wagner", "Cela") for t, _ in by_text)


def test_given_names_and_initials_mark_people() -> None:
    found = places_of("Investigator Scott Wheatley of the Grovetown police said Matthew D. Flores fled.")
    assert "Scott" not in found
    assert "Flores" not in found


def test_a_surname_stays_a_person_after_the_full_name() -> None:
    body = "Kim Welch, a teacher in Athens, Georgia, was honoured. Welch said she was surprised."
    found = places_of(body)
    assert "Welch" not in found
    assert found["Athens"][1] == "US"


def test_places_inside_organisation_names_follow_the_article() -> None:
    body = "The Paris Public Library will offer a workshop. Paris, Illinois, is the county seat."
    found = places_of(body)
    assert found["Paris"][1] == "US"
    assert "Washington" not in places_of("Reporters from the Washington Post and officials met in Kyiv.")


def test_region_abbreviation_after_a_comma() -> None:
    found = places_of("The fire destroyed two homes in Paris, Tenn., on Sunday.")
    assert found["Tenn."][2] == "admin1"
    g = gazetteer.load()
    idx = next(i for i in range(len(g)) if g.geonameid[i] == found["Paris"][0])
    assert g.admin1[idx] == "US.TN"


def test_possessive_and_french_elision() -> None:
    assert places_of("Ukraine's army held Bakhmut.")["Ukraine"][1] == "UA"
    assert places_of("L'armée de l'Ukraine tient Bakhmout.", "fr")["Ukraine"][1] == "UA"


def test_body_dateline_weighs_like_the_dateline() -> None:
    body = "ALEXANDRIA, La. — The Rapides Parish sheriff said deputies arrested two men near Pineville."
    found = places_of(body)
    g = gazetteer.load()
    idx = next(i for i in range(len(g)) if g.geonameid[i] == found["ALEXANDRIA"][0])
    assert g.admin1[idx] == "US.LA"


def test_headline_case_does_not_hide_places() -> None:
    body = "Freemason Bogdanov Joins Sochi Mayor Race. The vote in Sochi is set for April."
    places, _ = resolve_places(Article(id="t", body=body, language="en"))
    starts = {m.start for p in places for m in p.mentions if p.country_code == "RU"}
    assert body.index("Sochi") in starts


@pytest.mark.parametrize(
    ("dateline", "country"),
    [
        ("SALVADOR, Feb 26 -", "BR"),
        ("LONDON (Reuters) -", "GB"),
        ("(Chassiv Iar)", "UA"),
        ("WASHINGTON -", "US"),
    ],
)
def test_wire_datelines_give_the_focus(dateline: str, country: str) -> None:
    body = "Prices rose on Tuesday, traders said, as the harvest came in late."
    _, focus = resolve_places(Article(id="t", body=body, language="en", dateline=dateline))
    assert focus.country_code == country


def test_german_spellings_and_qualifiers() -> None:
    found = places_of("Die Truppen zogen sich aus Bachmut nach Tschassiw Jar zurück.", "de")
    assert found["Bachmut"][0] == BAKHMUT
    assert found["Tschassiw Jar"][0] == CHASIV_YAR
    found = places_of(
        "Im Gebiet Donezk wird gekämpft. Der Bürgermeister von Charkiw sagte, alles sei ruhig.", "de"
    )
    assert found["Donezk"] == (DONETSK_OBLAST, "UA", "admin1")
    assert found["Charkiw"][0] == KHARKIV


@pytest.mark.parametrize(
    ("body", "language", "street", "place"),
    [
        ("Police closed Cooper Street and Washington Drive near Atlanta.", "en", "Washington", "Atlanta"),
        ("Le cortège est parti de la rue de Paris, à Lyon.", "fr", "Paris", "Lyon"),
        ("Un rassemblement a eu lieu avenue de Versailles, à Lyon.", "fr", "Versailles", "Lyon"),
    ],
)
def test_street_names_are_not_places(body: str, language: str, street: str, place: str) -> None:
    found = places_of(body, language)
    assert street not in found
    assert found[place][1] == "FR" if language == "fr" else found[place][1] == "US"


def test_county_road_still_names_the_county() -> None:
    found = places_of("The crash closed Douglas County Road 4 near Alexandria, Minn.")
    assert found["Douglas County"][2] == "admin2"


def test_place_before_an_institution_is_its_seat() -> None:
    assert places_of("Students at Huntsville High School won the state contest.")["Huntsville"][1] == "US"


def test_place_before_a_weekday_is_not_a_given_name() -> None:
    assert "Alexandria" in places_of("A man was injured in Alexandria Friday night.")


def test_preposition_of_place_outweighs_a_nickname() -> None:
    body = "Mr. Arlington, the former mayor, died on Monday. He had lived in Arlington for 50 years."
    assert places_of(body)["Arlington"][1] == "US"
    assert places_of("M. Paris a parlé lundi. La réunion a eu lieu à Paris.", "fr")["Paris"][1] == "FR"


def test_lowercase_verb_is_no_honorific() -> None:
    assert "Rochester" in places_of("Storms are expected to miss Rochester this week.")
    assert "Rochester" not in places_of("The judges praised Miss Rochester for her speech.")


def test_gazetteer_links_towns_to_their_county() -> None:
    g = gazetteer.load()
    seats = {g.admin1[i]: g.display[g.county[i]] for i in range(len(g)) if g.display[i] == "Huntsville"}
    assert seats["US.TX"] == "Walker County"
    assert seats["US.AL"] == "Madison County"


@pytest.mark.parametrize(
    ("body", "language"),
    [
        (
            "The burn ban issued for Walker County was lifted Monday. Huntsville officials said it rained.",
            "en",
        ),
        (
            "L'interdiction de brûler dans le comté de Walker est levée, selon la police de Huntsville.",
            "fr",
        ),
    ],
)
def test_town_beside_its_county_is_the_county_seat(body: str, language: str) -> None:
    g = gazetteer.load()
    gid = places_of(body, language)["Huntsville"][0]
    assert g.admin1[g.geonameid.index(gid)] == "US.TX"


@pytest.mark.parametrize(
    ("body", "language"),
    [
        ("The plant stands opposite the port in New\nJersey, officials said.", "en"),
        ("La centrale se trouve en face du port du New\nJersey, selon les autorités.", "fr"),
    ],
)
def test_a_line_break_inside_a_name_keeps_it_whole(body: str, language: str) -> None:
    assert places_of(body, language)["New\nJersey"][2] == "admin1"


@pytest.mark.parametrize(
    ("body", "language"),
    [
        ("Volunteers will pick up trash along KY 90 near Corbin, police said.", "en"),
        ("La route KY 90 a été fermée près de Corbin, selon la police.", "fr"),
    ],
)
def test_bare_state_code_is_no_place(body: str, language: str) -> None:
    assert "KY" not in places_of(body, language)


def test_state_code_after_a_town_is_the_state() -> None:
    assert places_of("The fire destroyed two homes in Paris, TX, on Sunday.")["TX"][2] == "admin1"
    assert places_of("Le garçon a été retrouvé à Paris, TX, selon la police.", "fr")["TX"][2] == "admin1"


@pytest.mark.parametrize(
    ("body", "language", "word", "division"),
    [
        ("The program will help thousands of low-income Ohioans this year.", "en", "Ohioans", "Ohio"),
        ("Starting in July, Ontarians will receive a tax cut.", "en", "Ontarians", "Ontario"),
        ("Les Ontariens recevront une baisse d'impôt en juillet.", "fr", "Ontariens", "Ontario"),
        ("Des Tchétchènes ont été arrêtés à Moscou.", "fr", "Tchétchènes", "Chechnya"),
    ],
)
def test_people_of_a_division_name_the_division(body: str, language: str, word: str, division: str) -> None:
    places, _ = resolve_places(Article(id="t", body=body, language=language))
    found = {m.text: p for p in places for m in p.mentions}
    assert found[word].kind == "admin1"
    assert division in found[word].name


def test_names_listed_before_counties_are_counties() -> None:
    found = places_of("Flooding closed roads in Becker, Clay, Otter Tail and Wilkin counties on Monday.")
    assert {found[n][2] for n in ("Becker", "Clay", "Otter Tail", "Wilkin")} == {"admin2"}
    g = gazetteer.load()
    assert g.admin1[g.geonameid.index(found["Otter Tail"][0])] == "US.MN"


def test_french_plural_county_prefix_qualifies_the_name() -> None:
    found = places_of("Les inondations ont coupé des routes dans les comtés de Wilkin et d'Otter Tail.", "fr")
    assert found["Wilkin"][2] == "admin2"


@pytest.mark.parametrize(
    ("body", "language"),
    [
        ("City Council hired Stevens & Wilkinson to design the convention center in Columbia.", "en"),
        ("Le conseil municipal a engagé le cabinet Stevens & Wilkinson pour le centre de Columbia.", "fr"),
    ],
)
def test_partners_names_joined_by_ampersand_are_a_firm(body: str, language: str) -> None:
    found = places_of(body, language)
    assert "Stevens" not in found and "Wilkinson" not in found
    assert "Columbia" in found


@pytest.mark.parametrize(
    ("located", "not_located", "language"),
    [
        (
            "Two men were arrested in Moundville and Nashville on Monday.",
            "Two men from Moundville and Nashville were arrested on Monday.",
            "en",
        ),
        (
            "Deux hommes ont été arrêtés à Moundville et à Nashville lundi.",
            "Deux hommes de Moundville et de Nashville ont été arrêtés lundi.",
            "fr",
        ),
    ],
)
def test_preposition_of_place_lowers_the_bar(located: str, not_located: str, language: str) -> None:
    assert "Moundville" in places_of(located, language)
    assert "Moundville" not in places_of(not_located, language)


def test_gazetteer_knows_the_first_words_of_multiword_skeletons() -> None:
    g = gazetteer.load()
    assert gazetteer.skeleton("chasiv") in g.skeleton_heads
    assert gazetteer.skeleton("volcker") not in g.skeleton_heads
    assert "new" in g.name_heads and "volcker" not in g.name_heads


def test_name_written_in_two_words_meets_its_one_word_form() -> None:
    g = gazetteer.load()
    english = places_of("Officials in La Grange and Atlanta lifted the storm warning.")
    french = places_of("Les autorités de La Grange et d'Atlanta ont levé l'alerte.", "fr")
    for found in (english, french):
        assert g.admin1[g.geonameid.index(found["La Grange"][0])] == "US.GA"


def test_given_name_before_a_surname_that_is_a_city_is_a_person() -> None:
    assert "Jordan" not in places_of("Jordan Henderson scored for Liverpool against Chelsea in London.")
    french = places_of("Jordan Henderson a marqué pour Liverpool contre Chelsea à Londres.", "fr")
    assert "Jordan" not in french and french["Londres"][1] == "GB"
    assert places_of("King Abdullah of Jordan met officials in Amman.")["Jordan"][1] == "JO"


def test_capitals_before_a_colon_are_a_dateline() -> None:
    found = places_of("BEIRUT: A major drug dealer was arrested near the airport, security sources said.")
    assert found["BEIRUT"][1] == "LB"
    found = places_of("BEYROUTH : Un trafiquant a été arrêté près de l'aéroport, selon la sécurité.", "fr")
    assert found["BEYROUTH"][1] == "LB"
    assert places_of("NOTE: The figures were revised.") == {}


def test_sentence_full_of_names_is_no_headline() -> None:
    # Read as a title-cased headline, the given name before "Putin" would not mark a person.
    assert "Vladimir" not in places_of("Vladimir Putin received Xi Jinping at the Kremlin.")
    assert "Vladimir" not in places_of("Vladimir Poutine a reçu Xi Jinping au Kremlin.", "fr")
    assert places_of("Fighting continued in the Vladimir region, east of Moscow.")["Vladimir"][1] == "RU"


def test_part_of_a_region_is_the_region() -> None:
    english = places_of("Wildfires spread across eastern Washington, the state's governor said.")
    french = places_of("Des incendies se sont propagés dans l'est de Washington, selon le gouverneur.", "fr")
    assert english["Washington"][2] == french["Washington"][2] == "admin1"


def test_french_qualifier_after_an_elided_article() -> None:
    found = places_of("Des incendies se sont propagés dans l'État de Washington.", "fr")
    assert found["Washington"][2] == "admin1"
    assert places_of("Wildfires spread in the state of Washington.")["Washington"][2] == "admin1"


def test_a_repeated_dateline_resolves_the_same_each_time() -> None:
    # The dateline's reading is memoised across articles; each article still gets its own.
    body = "NEW YORK, March 2 - Shares rose in New York and Boston."
    article = Article(id="t", body=body, language="en", dateline="NEW YORK")
    first = resolve_places(article)
    assert resolve_places(article) == first
    assert first[1].place is not None
