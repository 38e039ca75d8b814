"""Dedup: fingerprints, and the story index's verdicts for each relation, its state and its window."""

import re
from collections.abc import MutableMapping
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streams import dedup
from streams.dedup import StoryFingerprint, StoryIndex, fingerprint
from streams.records import Article

SEEDS = Path(__file__).resolve().parents[2] / "seeds"

# A made-up dispatch, long enough to behave like real copy.
STORY = [
    "The harbour authority of Port Meridian said on Tuesday it would close the northern container "
    "terminal for 11 days from March 14 to repair a crane that collapsed during a storm last week.",
    "Ships due at the terminal will be diverted to the southern quays, where the authority expects "
    "waiting times of up to 36 hours, its operations director Helena Vasquez told reporters.",
    "The collapse injured two dock workers and damaged three containers of medical supplies bound "
    "for inland hospitals, according to a statement from the dockers' union.",
    "Insurers put the cost of the repair at about 4.2 million dollars, the statement said, adding "
    "that a second crane of the same model had been taken out of service as a precaution.",
    "Traffic through Port Meridian rose 7 percent last year to 1,250,000 containers, making it the "
    "busiest port on the coast, and the closure comes at the start of the harvest export season.",
    "Exporters of citrus fruit said they feared losses if refrigerated cargo was held up, and called "
    "on the authority to give them priority at the southern quays during the repairs.",
]
EXTRA = [
    "Late on Tuesday the transport ministry said it would send engineers to inspect every crane of "
    "the same model in the country's four other ports before the end of the month.",
    "The union said it would hold a meeting with the authority on Thursday to discuss safety rules "
    "for work in high winds, which it says are ignored on the night shifts.",
]
OTHER = [
    "Fishermen in the bay north of Port Meridian blocked the harbour entrance with 40 boats on "
    "Tuesday to protest against new quotas that cut their catch of sardines by a third.",
    "The protest lasted five hours and delayed the departure of two ferries, the harbour authority "
    "said, before police persuaded the crews to move their boats to the fishing wharf.",
    "The fishermen's cooperative said the quotas, set by the regional fisheries board in February, "
    "would force half of its 300 members out of work by the end of the summer.",
    "The board said the sardine stock had fallen to its lowest level in twenty years and that the "
    "quotas would be reviewed in October after a new survey of the bay.",
]
T0 = "2026-03-10T08:00:00Z"


def text(*paragraphs: str) -> str:
    return "\n\n".join(paragraphs)


def fp(
    article_id: str,
    body: str,
    published: str | None = T0,
    headline: str | None = None,
    language: str = "en",
    places: list[int] | None = None,
) -> StoryFingerprint:
    article = Article(id=article_id, body=body, headline=headline, language=language)
    return fingerprint(article, published, places or [], [])


def at(hours: float) -> str:
    """Return the ISO time `hours` after T0."""
    return (datetime.fromisoformat(T0) + timedelta(hours=hours)).isoformat()


def test_fingerprint_survives_the_json_round_trip():
    original = fp("a", text(*STORY), places=[2988507, 3017382])
    assert StoryFingerprint.from_json(orjson.loads(orjson.dumps(original))) == original


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"article_id": 5},
        {**orjson.loads(orjson.dumps(fp("a", "Some words here and more words."))), "sample": ["x"]},
        {**orjson.loads(orjson.dumps(fp("a", "Some words here and more words."))), "marker": "bogus"},
        {**orjson.loads(orjson.dumps(fp("a", "Some words here and more words."))), "numbers": [-1]},
    ],
)
def test_from_json_rejects_what_is_not_a_fingerprint(data):
    with pytest.raises((TypeError, ValueError)):
        StoryFingerprint.from_json(data)


def test_sample_is_consistent_bounded_and_complete_for_short_texts():
    long = fp("long", text(*STORY, *EXTRA, *OTHER))
    short = fp("short", "Qtly div 12 cts vs 12 cts prior Pay April 15 Record March 31")
    assert dedup.SAMPLE_MIN <= len(long.sample) <= dedup.SAMPLE_MAX
    assert all(h <= long.cut for h in long.sample) and long.sample == sorted(long.sample)
    assert short.cut == dedup.FULL_CUT and len(short.sample) == short.n_shingles


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("1,250,000", "1250000"),
        ("70\u00a0000", "70000"),
        ("70\u202f000", "70000"),
        ("2,5", "2.5"),
        ("1.234,5", "1234.5"),
        ("4.2", "4.2"),
        ("12-1/2", "12-1/2"),
    ],
)
def test_figures_are_normalised(raw, normal):
    assert dedup.tokens(f"about {raw} units")[1] == [normal]


def test_number_words_count_as_figures():
    assert dedup.tokens("two billion dlrs")[1] == ["2"]


@pytest.mark.parametrize(
    ("headline", "body", "marker"),
    [
        ("UPDATE 2-Port closes terminal", "Text.", "update"),
        ("CORRECTED - Port closes terminal", "Text.", "correction"),
        ("REFILE-Port closes terminal", "Text.", "repeat"),
        (None, "ACTUALISATION 1 - Le port ferme un terminal.", "update"),
        ("Port closes terminal", "Text.\n(Corrects name of director in second paragraph)", "correction"),
        ("Port closes terminal", "Text.", None),
        ("Le port ferme un terminal", "Texte.\n(AJOUTE déclarations du maire)", "update"),
        ("Le port ferme un terminal", "Texte.\nCe texte CORRIGE le nom du directeur.", "correction"),
    ],
)
def test_update_markers(headline, body, marker):
    assert dedup.find_marker(headline, body) == marker


def test_closing_note_patterns_are_written_in_lower_case():
    # They are matched against the lower-cased closing lines (no IGNORECASE: twice as fast).
    data = dedup._data()
    for kind in dedup.MARKERS:
        for patterns in data[kind]["note"].values():
            for pattern in patterns:
                letters = re.sub(r"\\.", "", pattern)  # escapes such as \b, \S keep their case
                assert letters == letters.lower(), pattern


@pytest.mark.parametrize(
    ("first", "last", "language"),
    [
        ("Reuters", "Reporting by A. Writer; editing by B. Editor", "en"),
        ("Suite", "Édité par A. Auteur", "fr"),
    ],
)
def test_boilerplate_lines_go_wherever_they_stand(first, last, language):
    plain = fp("a", text(*STORY[:2]), language=language)
    framed = fp("b", f"{first}\n{STORY[0]}\nMORE\n{last}\n{STORY[1]}\n{last}", language=language)
    assert framed.exact == plain.exact


def test_credit_lines_and_markers_do_not_change_the_text_fingerprint():
    plain = fp("a", text(*STORY))
    credited = fp(
        "b",
        "UPDATE 1 - " + text(*STORY) + "\n\nPort Meridian (AFP) – © 2026 AFP\nPhoto: J. Doe\nMORE",
    )
    assert credited.exact == plain.exact


def test_first_article_is_new_and_heads_its_own_story():
    verdict = StoryIndex({}).check(fp("a", text(*STORY)))
    assert (verdict.id, verdict.relation, verdict.of, verdict.version) == ("a", "new", None, 1)


def test_republished_copy_under_another_headline_is_a_duplicate():
    index = StoryIndex({})
    index.check(fp("a", text(*STORY), headline="Port to close terminal"))
    verdict = index.check(fp("b", text(*STORY), at(2), headline="Crane collapse shuts port terminal"))
    assert (verdict.id, verdict.relation, verdict.of, verdict.similarity) == ("a", "duplicate", "a", 1.0)


def test_edited_trimmed_and_padded_copies_are_duplicates():
    index = StoryIndex({})
    index.check(fp("a", text(*STORY)))
    edited = text(*STORY).replace("told reporters", "said").replace("about 4.2", "some 4.2")
    trimmed = text(*STORY[:-1])
    padded = text(*STORY) + "\n\nReporting by A. Writer; editing by B. Editor\nReuters"
    for article_id, body in (("edited", edited), ("trimmed", trimmed), ("padded", padded)):
        verdict = index.check(fp(article_id, body, at(1)))
        assert (verdict.relation, verdict.id) == ("duplicate", "a"), article_id


def test_short_version_inside_a_long_one_is_a_duplicate():
    index = StoryIndex({})
    index.check(fp("long", text(*STORY, *EXTRA)))
    verdict = index.check(fp("short", text(*STORY[:3]), at(1)))
    assert (verdict.relation, verdict.of) == ("duplicate", "long")


def test_later_version_with_added_paragraphs_is_an_update_with_the_next_version():
    index = StoryIndex({})
    index.check(fp("v1", text(*STORY[:4])))
    v2 = index.check(fp("v2", text(*STORY), at(1)))
    v3 = index.check(fp("v3", text(*STORY, *EXTRA), at(2), headline="UPDATE 2-Port closes terminal"))
    assert (v2.relation, v2.id, v2.version) == ("update", "v1", 2)
    assert (v3.relation, v3.id, v3.version) == ("update", "v1", 3)


def test_duplicate_of_an_update_keeps_the_story_and_its_version():
    index = StoryIndex({})
    index.check(fp("v1", text(*STORY[:4])))
    index.check(fp("v2", text(*STORY), at(1)))
    copy = index.check(fp("copy", text(*STORY), at(2)))
    assert (copy.relation, copy.id, copy.of, copy.version) == ("duplicate", "v1", "v2", 2)


def test_correction_with_a_changed_figure_is_an_update():
    index = StoryIndex({})
    index.check(fp("a", text(*STORY)))
    corrected = text(*STORY).replace("4.2 million", "2.4 million")
    verdict = index.check(fp("b", corrected, at(3), headline="CORRECTED - Port to close terminal"))
    assert (verdict.relation, verdict.id, verdict.version) == ("update", "a", 2)


def test_same_story_with_a_changed_figure_and_no_marker_is_not_a_duplicate_of_it():
    # One figure of six changed without a word why: an edit is tolerated, so it stays linked,
    # but as an update (the copy says something different), never as a plain duplicate.
    index = StoryIndex({})
    index.check(fp("a", text(*STORY)))
    verdict = index.check(fp("b", text(*STORY).replace("36 hours", "48 hours"), at(1)))
    assert verdict.relation != "duplicate"


def test_same_place_same_day_different_story_stays_separate():
    index = StoryIndex({})
    index.check(fp("port", text(*STORY)))
    assert index.check(fp("fishermen", text(*OTHER), at(1))).relation == "new"


def test_seed_stories_from_one_town_are_different_stories():
    index = StoryIndex({})
    seeds = sorted(SEEDS.glob("*.txt"))
    languages = ["en", "en", "fr", "fr"]
    verdicts = [
        index.check(fp(path.stem, path.read_text(), language=lang))
        for path, lang in zip(seeds, languages, strict=True)
    ]
    assert [v.relation for v in verdicts] == ["new"] * 4


RESULTS = "{co} 3RD QTR NET\nShr {shr} vs {prev}\nNet {net} vs {net_prev}\nRevs {revs} vs {revs_prev}\nReuter"


def results(co: str, shr: str, prev: str, net: str, net_prev: str, revs: str, revs_prev: str) -> str:
    return RESULTS.format(
        co=co, shr=shr, prev=prev, net=net, net_prev=net_prev, revs=revs, revs_prev=revs_prev
    ).split("\n", 1)[1]


def test_template_stories_with_different_figures_are_different_stories():
    index = StoryIndex({})
    first = results("ACME", "1.20 dlrs", "1.10 dlrs", "12.5 mln", "11.2 mln", "140.1 mln", "131.9 mln")
    second = results("BETA", "1.25 dlrs", "1.10 dlrs", "8.5 mln", "7.9 mln", "96.4 mln", "91.0 mln")
    index.check(fp("acme", first))
    assert index.check(fp("beta", second, at(1))).relation == "new"
    # The same figures again are the same results, republished.
    assert index.check(fp("acme-again", first, at(2))).relation == "duplicate"


@pytest.mark.parametrize("day", ["1.5", "2.5"])
def test_daily_market_reports_on_other_days_are_different(day):
    report = (
        "The central bank said it added {} billion dlrs to the banking system through customer "
        "repurchase agreements. Dealers said Federal funds were trading at {} pct when the bank "
        "began its temporary and indirect supply of reserves to the banking system."
    )
    index = StoryIndex({})
    index.check(fp("monday", report.format("2.0", "6-1/16")))
    assert index.check(fp("tuesday", report.format(day, "6-3/16"), at(24))).relation == "new"


def test_replayed_article_gets_the_same_verdict_and_leaves_state_unchanged():
    state: dict[str, bytes] = {}
    index = StoryIndex(state)
    index.check(fp("a", text(*STORY)))
    first = index.check(fp("b", text(*STORY[:-1]), at(1)))
    snapshot = dict(state)
    again = index.check(fp("b", text(*STORY[:-1]), at(1)))
    assert again == first and state == snapshot


def test_articles_outside_the_window_expire_and_are_not_linked():
    state: dict[str, bytes] = {}
    index = StoryIndex(state, window_hours=72)
    index.check(fp("old", text(*STORY)))
    verdict = index.check(fp("late", text(*STORY), "2026-03-13T09:00:00Z"))  # 73 hours on
    assert verdict.relation == "new"
    assert "a:old" not in state and len(index) == 1


def test_state_stays_flat_over_a_long_run():
    state: dict[str, bytes] = {}
    index = StoryIndex(state, window_hours=1)
    for hour in range(200):
        body = f"Bulletin number {hour} about topic {hour * 7919 % 1000} with figure {hour * 31}."
        index.check(fp(f"n{hour}", body, f"2026-01-{1 + hour // 24:02d}T{hour % 24:02d}:00:00Z"))
    assert len(index) <= 2 and len(state) <= 2


def test_article_without_publication_time_is_placed_at_the_clock():
    index = StoryIndex({})
    index.check(fp("a", text(*STORY)))
    verdict = index.check(fp("b", text(*STORY), None))
    assert verdict.relation == "duplicate"
    assert index.clock == dedup.parse_time(T0)


def test_state_records_stay_under_one_kilobyte():
    state: dict[str, bytes] = {}
    index = StoryIndex(state)
    index.check(fp("long", text(*STORY, *EXTRA, *OTHER) * 5, places=list(range(40))))
    assert all(len(key) + len(value) < 1024 for key, value in state.items())


def test_state_round_trip_through_plain_bytes_gives_the_same_verdicts():
    articles = [
        fp("a", text(*STORY[:4])),
        fp("b", text(*OTHER), at(1)),
        fp("c", text(*STORY), at(2)),
        fp("d", text(*STORY[:3]), at(3)),
        fp("e", text(*OTHER[:2]), at(4)),
        fp("f", text(*STORY, *EXTRA), at(5), headline="UPDATE 3-Port"),
    ]
    state: dict[str, bytes] = {}
    live = StoryIndex(state)
    for article in articles[:3]:
        live.check(article)
    # A restart: only the bytes survive (as a changelog would restore them).
    restored = StoryIndex({key: bytes(value) for key, value in state.items()})
    after_restart = [restored.check(article) for article in articles]
    uninterrupted = [live.check(article) for article in articles]
    assert after_restart == uninterrupted
    assert [v.relation for v in uninterrupted] == ["new", "new", "update", "duplicate", "duplicate", "update"]


def test_rebuild_derives_the_same_cache_from_state():
    state: dict[str, bytes] = {}
    index = StoryIndex(state)
    index.check(fp("a", text(*STORY)))
    index.check(fp("b", text(*OTHER), at(1)))
    index.rebuild()
    assert len(index) == 2
    assert index.check(fp("c", text(*STORY), at(2))).of == "a"


FRENCH = [
    "L'autorité portuaire de Port Meridian a annoncé mardi la fermeture du terminal nord pour 11 "
    "jours à partir du 14 mars, afin de réparer une grue effondrée lors d'une tempête.",
    "Les navires seront déroutés vers les quais sud, où l'attente pourrait atteindre 36 heures. "
    "La réparation coûtera environ 4,2 millions de dollars, selon les assureurs.",
    "Le trafic du port a progressé de 7\u00a0% l'an dernier, à 1\u00a0250\u00a0000 conteneurs.",
]


def test_translation_is_linked_on_places_and_figures_when_enabled():
    index = StoryIndex({}, translations=True)
    index.check(fp("en", text(*STORY), places=[101, 202]))
    verdict = index.check(fp("fr", text(*FRENCH), at(2), language="fr", places=[101, 202]))
    assert (verdict.relation, verdict.id) == ("translation", "en")


def test_translation_needs_the_same_figures_not_just_the_same_places():
    index = StoryIndex({}, translations=True)
    index.check(fp("en", text(*OTHER), places=[101, 202]))
    assert index.check(fp("fr", text(*FRENCH), at(2), language="fr", places=[101, 202])).relation == "new"


def test_translations_are_not_linked_by_default():
    index = StoryIndex({})
    index.check(fp("en", text(*STORY), places=[101, 202]))
    assert index.check(fp("fr", text(*FRENCH), at(2), language="fr", places=[101, 202])).relation == "new"


def test_round_up_that_quotes_a_story_is_not_a_version_of_it():
    index = StoryIndex({})
    index.check(fp("story", text(*STORY[:1])))
    round_up = text(*OTHER, STORY[0], *EXTRA, *[p.replace("Port Meridian", "Lake Town") for p in STORY[1:]])
    assert index.check(fp("round-up", round_up * 2, at(1))).relation == "new"


def test_marked_correction_needs_less_overlap_than_an_unmarked_copy():
    index = StoryIndex({})
    index.check(fp("a", text(*STORY)))
    # Half the story kept, new copy around it: too little in common for an unmarked copy.
    rewritten = text(STORY[0], STORY[2], STORY[4], *EXTRA, OTHER[0])
    unmarked = StoryIndex({})
    unmarked.check(fp("a", text(*STORY)))
    assert unmarked.check(fp("b", rewritten, at(1))).relation == "new"
    verdict = index.check(fp("b", rewritten, at(1), headline="CORRECTED-Port to close terminal"))
    assert verdict.relation == "update"


class TableLike(MutableMapping):
    """Only the mapping protocol, as a Faust table offers it."""

    def __init__(self) -> None:
        self.data: dict[str, bytes] = {}

    def __getitem__(self, key: str) -> bytes:
        return self.data[key]

    def __setitem__(self, key: str, value: bytes) -> None:
        assert isinstance(key, str) and isinstance(value, bytes)
        self.data[key] = value

    def __delitem__(self, key: str) -> None:
        del self.data[key]

    def __iter__(self):
        return iter(self.data)

    def __len__(self) -> int:
        return len(self.data)


def test_index_needs_only_the_mapping_protocol_of_str_to_bytes():
    table = TableLike()
    index = StoryIndex(table, window_hours=1)
    index.check(fp("a", text(*STORY)))
    assert index.check(fp("b", text(*STORY), at(0.5))).relation == "duplicate"
    index.check(fp("c", text(*OTHER), at(3)))
    assert set(table.data) == {"a:c"}


def test_old_copy_under_a_new_lede_is_a_re_topped_update():
    index = StoryIndex({})
    index.check(fp("a", text(*STORY)))
    new_lede = (
        "Port Meridian reopened its northern container terminal on Friday, three days ahead of "
        "schedule, after engineers finished repairs to the crane."
    )
    verdict = index.check(fp("b", text(new_lede, *STORY[1:]), at(30)))
    assert (verdict.relation, verdict.id, verdict.version) == ("update", "a", 2)


def test_copy_trimmed_from_the_top_is_still_a_duplicate():
    index = StoryIndex({})
    index.check(fp("a", text(*STORY, *EXTRA)))
    assert index.check(fp("b", text(*STORY[1:], *EXTRA), at(1))).relation == "duplicate"


def test_place_ids_of_any_sign_are_kept_as_32_bit_evidence():
    fingerprint_ = fp("a", text(*STORY), places=[-5, 2988507])
    assert all(0 <= place < 2**32 for place in fingerprint_.places)
    assert StoryIndex({}, translations=True).check(fingerprint_).relation == "new"


PARAGRAPHS = [*STORY, *EXTRA, *OTHER]
HEADLINES = [None, "UPDATE 1-Port news", "CORRECTED-Port news", "REFILE-Port news"]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.lists(st.integers(0, len(PARAGRAPHS) - 1), min_size=1, max_size=6),
            st.integers(0, 12),  # hours after T0
            st.sampled_from(HEADLINES),
        ),
        min_size=2,
        max_size=14,
    ),
    st.integers(0, 14),
)
def test_a_restart_from_the_state_bytes_never_changes_a_verdict(articles, restart_at):
    fingerprints = [
        fp(f"n{number}", text(*(PARAGRAPHS[i] for i in picks)), at(hours), headline=headline)
        for number, (picks, hours, headline) in enumerate(articles)
    ]
    fingerprints.append(fingerprints[0])  # and a replay
    state: dict[str, bytes] = {}
    live = StoryIndex(state, window_hours=4)
    uninterrupted = [live.check(f) for f in fingerprints]

    state = {}
    first = StoryIndex(state, window_hours=4)
    before = [first.check(f) for f in fingerprints[:restart_at]]
    restarted = StoryIndex({key: bytes(value) for key, value in state.items()}, window_hours=4)
    after = [restarted.check(f) for f in fingerprints[restart_at:]]
    assert before + after == uninterrupted


def test_re_topped_lede_with_new_figures_is_an_update():
    index = StoryIndex({})
    index.check(fp("a", text(*STORY)))
    new_lede = (
        "Repairs to the crane that collapsed at Port Meridian last week will take 19 days and "
        "cost 6.8 million dollars, far more than first thought, engineers said on Wednesday."
    )
    verdict = index.check(fp("b", text(new_lede, *STORY[1:]), at(26)))
    assert (verdict.relation, verdict.id) == ("update", "a")


def test_update_after_the_newest_version_expired_counts_from_the_versions_left():
    # Found by the property test: the version of an update must not depend on a restart.
    index = StoryIndex({}, window_hours=4)
    body = text(STORY[0])
    index.check(fp("n0", body, at(0)))
    index.check(fp("n1", body, at(0), headline="UPDATE 1-Port news"))  # version 2, expires first
    index.check(fp("n2", body, at(1)))  # a copy of version 1
    index.check(fp("n3", body, at(5)))  # the clock moves on: n0 and n1 expire
    verdict = index.check(fp("n4", body, at(1), headline="UPDATE 1-Port news"))
    assert (verdict.relation, verdict.version) == ("update", 2)


def test_new_lede_on_part_of_the_old_copy_needs_less_overlap():
    old = text(*STORY)
    new_lede = (
        "Dock workers at Port Meridian walked out on Thursday, demanding new safety rules before "
        "the repaired crane returns to service on the northern quay."
    )
    re_topped = text(new_lede, *STORY[1:4], *EXTRA)  # half the old copy kept, new copy added
    strict = StoryIndex({}, thresholds=dedup.Thresholds(re_top_relief=0.0))
    strict.check(fp("a", old))
    relieved = StoryIndex({})
    relieved.check(fp("a", old))
    assert strict.check(fp("b", re_topped, at(20))).relation == "new"
    assert relieved.check(fp("b", re_topped, at(20))).relation == "update"


def test_number_words_and_abbreviations_are_spelled_one_way():
    assert dedup.tokens("payable may one, quarterly")[0] == dedup.tokens("pay may 1, qtly")[0]


def test_a_figure_hyphenated_to_a_word_is_split_but_a_range_stays_whole():
    assert dedup.tokens("an 11-year life from mid-1988")[0] == [
        "an",
        "11",
        "year",
        "life",
        "from",
        "mid",
        "1988",
    ]
    assert dedup.tokens("up 12-1/2 at a three-year high")[0] == [
        "up",
        "12-1/2",
        "at",
        "a",
        "three-year",
        "high",
    ]


def test_dividend_notice_written_out_and_abbreviated_is_a_duplicate():
    index = StoryIndex({})
    index.check(fp("long", "Quarterly div 69 cts vs 69 cts prior\nPayable May one\nRecord April 10"))
    verdict = index.check(fp("short", "Qtly div 69 cts vs 69 cts prior\nPay May 1\nRecord April 10", at(1)))
    assert (verdict.relation, verdict.of) == ("duplicate", "long")


def test_dividend_notices_with_other_amounts_stay_apart():
    index = StoryIndex({})
    index.check(fp("a", "Qtly div 31 cts vs 31 cts prior\nPay April 24\nRecord March 31"))
    assert (
        index.check(fp("b", "Qtly div 35 cts vs 31 cts prior\nPay April 24\nRecord March 31", at(1))).relation
        == "new"
    )


def test_overlap_needed_follows_the_length_of_the_smaller_text_not_its_sample():
    # A 70-shingle text, 46 of them (66%) in a long text sampled at half the hash space: cut at
    # the long text's cut, the short one keeps ~35 shingles, yet it is 70 long and needs 60%.
    rng = np.random.default_rng(7)
    hashes = np.unique(rng.integers(0, dedup.HASH_SPACE, 2000, dtype=np.uint64).astype(np.uint32))
    hashes = hashes[(hashes & dedup.FIGURE_BIT) == 0]
    short, rest = hashes[:70], hashes[70:]
    long_all = np.union1d(short[:46], rest[:300])
    cut = dedup.HASH_SPACE // 2
    old = dedup.Sketch(len(long_all), cut, long_all[long_all <= cut], dedup.FULL_CUT, dedup._EMPTY)
    new = dedup.Sketch(70, dedup.FULL_CUT, short, dedup.FULL_CUT, dedup._EMPTY)
    found = dedup.relate(new, old)
    assert found is not None and found[0] == "duplicate"


TABLE = (
    "Shr 38 cts vs 47 cts\nNet 2,253,664 vs 2,806,820\nRevs 5,173,318 vs 5,873,904\n"
    "NOTE: Net includes gains on sale of real estate of 126,117 dlrs vs 29,812 dlrs."
)
TABLE_REWORDED = (
    "Shr 38 cts vs 47 cts\nNet 2,253,664 vs 2,806,820\nGross income 5,173,318 vs 5,873,904\n"
    "NOTE: 1987 qtr includes 126,117 dlrs, or two cts per share, from gains on sale of\n"
    "property, vs gain 29,812, or less than one cent per share, for prior qtr."
)


def test_results_table_reworded_with_the_same_figures_is_a_version_of_it():
    # Under half the shingles in common, but every distinctive figure: the same results.
    index = StoryIndex({})
    index.check(fp("first", TABLE))
    verdict = index.check(fp("second", TABLE_REWORDED, at(2)))
    assert verdict.relation in ("duplicate", "update") and verdict.of == "first"


def test_results_table_of_another_company_with_other_figures_stays_apart_however_worded():
    other = TABLE_REWORDED.replace("2,253,664", "1,904,112").replace("5,173,318", "4,020,775")
    other = other.replace("126,117", "88,410").replace("2,806,820", "2,511,090")
    index = StoryIndex({})
    index.check(fp("first", TABLE))
    assert index.check(fp("other", other, at(2))).relation == "new"


def test_bond_issues_sharing_only_template_figures_stay_apart():
    # Fees, denominations, years and fractions fill every issue: they are not distinctive.
    issue = (
        "{co} is issuing a {amount} mln dlr eurobond due April 15, 1992 paying 7-1/4 pct and "
        "priced at {price} pct, lead manager Nomura International Ltd said. The non-callable bond "
        "is available in denominations of 5,000 dlrs and will be listed in Luxembourg. The selling "
        "concession is 1-1/4 pct, while management and underwriting combined pays 5/8 pct. "
        "The payment date is April 15, 1987."
    )
    index = StoryIndex({})
    index.check(fp("hokkaido", issue.format(co="Hokkaido Bank", amount="30", price="101-1/4")))
    gunma = issue.format(co="Gunma Bank", amount="50", price="101-3/8")
    assert index.check(fp("gunma", gunma, at(1))).relation == "new"


@pytest.mark.parametrize(
    ("figure", "distinctive"),
    [("2253664", True), ("872.3", True), ("12.1", True), ("38", False), ("1987", False), ("1-1/4", False)],
)
def test_figures_with_three_significant_digits_are_distinctive(figure, distinctive):
    assert dedup._figure_hash(figure) & 1 == distinctive


def test_exchange_rate_with_four_decimals_keeps_them():
    assert dedup.tokens("us/uk 1.6180 - 1.6187")[1] == ["1.6180", "1.6187"]


def test_results_table_reworded_with_the_same_figures_and_no_more_is_a_duplicate():
    # Longer, but it keeps under half of the old copy: a rewrite, not paragraphs added.
    index = StoryIndex({})
    index.check(fp("first", TABLE))
    assert index.check(fp("second", TABLE_REWORDED, at(2))).relation == "duplicate"


def test_notice_whose_first_line_is_relabelled_is_a_duplicate():
    index = StoryIndex({})
    index.check(fp("first", "Shr 31 cts vs 31 cts prior\nPay April 24\nRecord March 31"))
    verdict = index.check(
        fp("second", "Qtly div 31 cts vs 31 cts prior\nPay April 24\nRecord March 31", at(1))
    )
    assert (verdict.relation, verdict.of) == ("duplicate", "first")


def test_old_copy_with_a_short_paragraph_of_new_figures_is_an_update():
    index = StoryIndex({})
    index.check(fp("first", text(*STORY)))
    added = "Shipping rates rose 9 percent to 2,310 dollars a container."
    verdict = index.check(fp("second", text(*STORY, added), at(3)))
    assert (verdict.relation, verdict.of, verdict.version) == ("update", "first", 2)


FEW_FIGURES = [
    "Dock workers at Port Meridian walked out on Wednesday over safety rules for work in high winds, "
    "halting the loading of ships at the northern quays for the whole of the morning shift.",
    "The union said its members would not return until the harbour authority agreed to stop "
    "crane work whenever gusts exceeded the limit set by the manufacturer of the cranes.",
    "The authority said it was studying the demand and would answer the union before the end of "
    "the week, adding that ships already alongside would be loaded by supervisors.",
    "Exporters of citrus fruit said they feared losses if refrigerated cargo was held up, and "
    "called on both sides to settle the dispute quickly during the harvest season.",
]


def test_new_lede_with_its_own_figures_on_copy_with_few_figures_is_an_update():
    # Two figures out, two in: too many for a story with four, unless a new lede brought them.
    old = text(
        "About 120 dock workers of the 900 at Port Meridian walked out on Wednesday.", *FEW_FIGURES[1:]
    )
    new = text(
        "Crane drivers joined the strike by Port Meridian dockers on Thursday, 45 of them, leaving "
        "16 ships waiting in the bay for berths, the union and shipping agents said.",
        *FEW_FIGURES[1:],
    )
    index = StoryIndex({})
    index.check(fp("first", old))
    verdict = index.check(fp("second", new, at(20)))
    assert (verdict.relation, verdict.of) == ("update", "first")


def test_repeat_with_a_changed_figure_is_an_update_and_without_one_a_duplicate():
    table = "Shr nine cts vs four cts\nNet 658,159 vs 299,930\nRevs 3,770,341 vs 2,614,224\n"
    note = "NOTE: 1985 year net includes {} dlr tax credit."
    index = StoryIndex({})
    index.check(fp("first", table + note.format("13,000")))
    again = index.check(fp("again", table + note.format("13,000"), at(20), headline="RPT-ACME NET"))
    fixed = index.check(fp("fixed", table + note.format("131,000"), at(21), headline="RPT-ACME NET"))
    assert (again.relation, fixed.relation, fixed.version) == ("duplicate", "update", 2)


NOTICE = "Qtly div 20 cts vs 20 cts previously\nPay April 15\nRecord March 23"


def test_notices_of_two_companies_with_the_same_terms_stay_apart():
    index = StoryIndex({})
    index.check(fp("quaker", NOTICE, headline="QUAKER OATS CO <OAT> REGULAR DIVIDEND"))
    other = index.check(
        fp("unibancorp", NOTICE, at(50), headline="UNIBANCORP INC <UBCP> REGULAR DIVIDEND SET")
    )
    assert other.relation == "new"


def test_notice_sent_again_under_a_headline_naming_the_same_company_is_a_duplicate():
    index = StoryIndex({})
    index.check(fp("first", NOTICE, headline="QUAKER OATS CO <OAT> REGULAR DIVIDEND"))
    again = index.check(fp("again", NOTICE, at(1), headline="QUAKER OATS <OAT> SETS QUARTERLY PAYOUT"))
    assert (again.relation, again.of) == ("duplicate", "first")


def test_state_records_of_the_format_before_headlines_are_still_read():
    state: dict[str, bytes] = {}
    index = StoryIndex(state)
    index.check(fp("first", text(*STORY), headline="PORT MERIDIAN CLOSES TERMINAL"))
    record = state["a:first"]
    fields = dedup._HEADER.unpack_from(record)
    n_headline = fields[-1]
    old = dedup._HEADER_1.pack(1, *fields[1:-1]) + record[dedup._HEADER.size : len(record) - 4 * n_headline]
    entry, verdict = dedup._decode("first", old)
    new_entry, new_verdict = dedup._decode("first", record)
    assert verdict == new_verdict and n_headline and not len(entry.sketch.headline)
    assert entry.sketch.sample.tolist() == new_entry.sketch.sample.tolist()
    assert entry.sketch.lede.tolist() == new_entry.sketch.lede.tolist()


def test_notice_sent_again_under_a_headline_with_no_word_in_common_is_still_a_duplicate():
    index = StoryIndex({})
    index.check(fp("first", NOTICE, headline="QUAKER OATS CO <OAT> REGULAR DIVIDEND"))
    assert index.check(fp("again", NOTICE, at(1), headline="PAYOUT UNCHANGED")).relation == "duplicate"


def test_two_short_paragraphs_with_two_thirds_in_common_are_not_linked():
    # Template copy (crude postings, note offerings of two companies) shares that much; below
    # 64 shingles 70% is needed, above it 60% (several paragraphs agree).
    rng = np.random.default_rng(11)
    hashes = np.unique(rng.integers(0, dedup.HASH_SPACE, 4000, dtype=np.uint64).astype(np.uint32))
    hashes = hashes[(hashes & dedup.FIGURE_BIT) == 0]
    for size, linked in ((60, False), (100, True)):
        shared = hashes[: size * 2 // 3]
        a = np.union1d(shared, hashes[300 : 300 + size - len(shared)])
        b = np.union1d(shared, hashes[600 : 600 + size - len(shared)])
        old = dedup.Sketch(len(a), dedup.FULL_CUT, a, dedup.FULL_CUT, dedup._EMPTY)
        new = dedup.Sketch(len(b), dedup.FULL_CUT, b, dedup.FULL_CUT, dedup._EMPTY)
        assert (dedup.relate(new, old) is not None) == linked


# An AFP-style dispatch in French, long enough to behave like real copy.
FRENCH_STORY = [
    "Le port de Saint-Malo fermera son terminal de ferries pendant 9 jours à partir du 3 avril pour "
    "réparer une passerelle endommagée par la tempête de la semaine dernière, a annoncé lundi la "
    "chambre de commerce.",
    "Les traversées vers Portsmouth et Jersey seront reportées sur le port de Cherbourg, où la "
    "compagnie prévoit des retards pouvant atteindre 5 heures, a indiqué son directeur des opérations.",
    "La tempête a blessé deux agents portuaires et endommagé une dizaine de véhicules stationnés sur "
    "le quai, selon un communiqué du syndicat des dockers publié dans la soirée.",
    "Les assureurs évaluent le coût des travaux à environ 3,8 millions d'euros, précise le "
    "communiqué, qui ajoute qu'une seconde passerelle du même modèle a été fermée par précaution.",
    "Le trafic du port a progressé de 6\u00a0% l'an dernier, à 1\u00a0120\u00a0000 passagers, et la "
    "fermeture intervient au début de la saison des vacances de printemps.",
    "Les hôteliers de la ville craignent des annulations et demandent à la chambre de commerce "
    "d'organiser des navettes gratuites vers Cherbourg pendant toute la durée des travaux.",
    "Les pêcheurs, qui partagent le bassin avec les ferries, ont obtenu l'autorisation de continuer "
    "à débarquer leurs prises sur le quai ouest pendant les réparations.",
    "La mairie a prévu de réunir mercredi les commerçants du quartier du port, inquiets de perdre "
    "une partie de leur clientèle au moment où la saison touristique commence.",
]
LONG_STORY = [*STORY, *OTHER, *FEW_FIGURES]


@pytest.mark.parametrize(
    ("story", "lede", "language"),
    [
        (STORY, "Repairs: 6.1 mln dlrs, or 1.9 mln dlrs more than the 4.2 mln dlrs estimated.", "en"),
        (FRENCH_STORY, "Travaux : 5,2 M EUR, soit 1,4 M EUR de plus que les 3,8 M EUR prévus.", "fr"),
    ],
)
def test_re_topped_with_a_lede_of_figures_is_an_update(story, lede, language):
    # The new lede has two or three shingles without figures, all new, and its own figures.
    index = StoryIndex({})
    index.check(fp("first", text(*story), language=language))
    verdict = index.check(fp("second", text(lede, *story[1:]), at(6), language=language))
    assert (verdict.relation, verdict.of, verdict.version) == ("update", "first", 2)


def test_results_of_another_company_in_french_with_other_figures_stay_apart():
    form = "Bénéfice net : {} M EUR contre {} M EUR\nChiffre d'affaires : {} M EUR contre {} M EUR\nAFP"
    index = StoryIndex({})
    index.check(fp("acme", form.format("12,5", "11,2", "140,1", "131,9"), language="fr"))
    verdict = index.check(fp("beta", form.format("8,5", "7,9", "96,4", "91,0"), at(1), language="fr"))
    assert verdict.relation == "new"


@pytest.mark.parametrize(
    ("story", "added", "language"),
    [
        (LONG_STORY, EXTRA[0], "en"),
        (
            FRENCH_STORY,
            "Dans la soirée, le ministère des Transports a annoncé l'envoi d'inspecteurs dans les "
            "quatre autres ports de la région.",
            "fr",
        ),
    ],
)
def test_long_story_with_a_paragraph_added_is_an_update(story, added, language):
    # The added paragraph is less than a tenth of the new text, but it is new copy, not an edit.
    index = StoryIndex({})
    index.check(fp("first", text(*story), language=language))
    verdict = index.check(fp("second", text(*story, added), at(2), language=language))
    assert (verdict.relation, verdict.of, verdict.version) == ("update", "first", 2)


@pytest.mark.parametrize(
    ("story", "edit", "language"),
    [
        (LONG_STORY, ("told reporters.", "told reporters at the port on Tuesday."), "en"),
        (FRENCH_STORY, ("dans la soirée.", "dans la soirée de lundi à Saint-Malo."), "fr"),
    ],
)
def test_long_story_with_a_few_words_added_is_a_duplicate(story, edit, language):
    index = StoryIndex({})
    index.check(fp("first", text(*story), language=language))
    verdict = index.check(fp("second", text(*story).replace(*edit), at(2), language=language))
    assert (verdict.relation, verdict.of) == ("duplicate", "first")


def _seed_opening(name: str) -> tuple[str, str, str]:
    """Return a seed's body, its first sentence and its first paragraph."""
    body = (SEEDS / name).read_text()
    return body, body.split(". ")[0] + ".", body.split("\n\n")[0]


@pytest.mark.parametrize(
    ("name", "part", "language"),
    [("000_f6ed345f7ba3843d.txt", 1, "en"), ("003_848bf0f98ec7f2d6.txt", 2, "fr")],
)
def test_opening_cut_from_a_long_story_is_a_duplicate(name, part, language):
    # The long story's sample is cut so low that it shows few of the short text's shingles;
    # the opening, the same eight shingles in the same order, is the rest of the evidence.
    body, *openings = _seed_opening(name)
    index = StoryIndex({})
    index.check(fp("long", body, language=language))
    verdict = index.check(fp("short", openings[part - 1], at(1), language=language))
    assert (verdict.relation, verdict.of) == ("duplicate", "long")


@pytest.mark.parametrize(
    ("name", "part", "other", "language"),
    [
        ("000_f6ed345f7ba3843d.txt", 1, text(*OTHER[:2]), "en"),
        ("003_848bf0f98ec7f2d6.txt", 2, text(*FRENCH_STORY[:2]), "fr"),
    ],
)
def test_same_opening_then_other_copy_stays_apart(name, part, other, language):
    body, *openings = _seed_opening(name)
    index = StoryIndex({})
    index.check(fp("long", body, language=language))
    verdict = index.check(fp("other", text(openings[part - 1], other), at(1), language=language))
    assert verdict.relation == "new"


@pytest.mark.parametrize(
    ("name", "first", "words", "language"),
    [("001_7eb81559d508a531.txt", 1, 16, "en"), ("003_848bf0f98ec7f2d6.txt", 6, 14, "fr")],
)
def test_snap_of_a_long_story_is_found_by_its_opening(name, first, words, language):
    # The snap (the story's first words, sent ahead of it) holds none of the few hashes the long
    # story is posted under; it is found by the opening shingle both start with.
    story = "\n\n".join((SEEDS / name).read_text().split("\n\n")[first:])
    snap = " ".join(story.split()[:words])
    index = StoryIndex({})
    index.check(fp("story", story, language=language))
    verdict = index.check(fp("snap", snap, at(1), language=language))
    assert (verdict.relation, verdict.of) == ("duplicate", "story")


def test_the_only_white_space_the_blanking_leaves_is_the_ideographic_space():
    # `tokens` checks for it by name instead of scanning the code points on every import.
    left = [
        chr(c)
        for c in range(0x110000)
        if chr(c).isspace() and chr(c) != " " and chr(c).translate(dedup._BLANKS) == chr(c)
    ]
    assert left == [dedup._WHITESPACE_ABOVE_BLANKS]


def test_a_token_next_to_an_ideographic_space_loses_its_full_stop():
    assert dedup.tokens("prices rose.\u3000markets fell")[0] == ["prices", "rose", "markets", "fell"]
