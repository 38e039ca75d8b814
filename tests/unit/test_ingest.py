"""Ingest: raw bytes -> Article, or a rejection with a readable reason."""

from pathlib import Path

import orjson
import pytest

from streams.deadletter import Rejected
from streams.ingest import article_id, parse_article

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def seed(prefix: str) -> bytes:
    return next(SEEDS.glob(f"{prefix}_*.txt")).read_bytes()


def rejection(raw: bytes, **limits) -> Rejected:
    with pytest.raises(Rejected) as caught:
        parse_article(raw, **limits)
    return caught.value


def test_json_object_fields_are_read_and_unknown_fields_kept_in_extra():
    raw = orjson.dumps(
        {
            "id": "a1",
            "body": "Text here.",
            "source": "AFP",
            "language": "fr-FR",
            "headline": "H",
            "published": "2023-03-08T20:37:21Z",
            "dateline": "PARIS",
            "desk": "world",
            "tags": [1, 2],
        }
    )
    article = parse_article(raw)
    assert (article.id, article.source, article.headline, article.dateline) == ("a1", "AFP", "H", "PARIS")
    assert article.language == "fr"
    assert article.published == "2023-03-08T20:37:21Z"
    assert article.extra == {"desk": "world", "tags": [1, 2]}


def test_integer_id_becomes_a_string():
    assert parse_article(b'{"id": 42, "body": "x y"}').id == "42"


def test_id_without_one_is_a_stable_hash_of_the_normalised_body():
    first = parse_article(b'{"body": "Kyiv  said\\n so."}')
    second = parse_article(b"Kyiv said so.")
    assert first.id == second.id == article_id("Kyiv said so.")
    assert len(first.id) == 32


def test_body_is_kept_exactly_as_published():
    raw = seed("003")
    assert parse_article(raw).body == raw.decode()


def test_plain_text_opening_dateline_in_parentheses():
    article = parse_article(seed("000"))
    assert article.dateline == "Chassiv Iar"
    assert article.language == "en"


def test_plain_text_closing_afp_credit_line():
    article = parse_article(seed("001"))
    assert article.credit_line == "03/08/2023 20:37:21 – Chasiv Yar (Ukraine) (AFP) – © 2023 AFP"
    assert article.source == "AFP"
    assert article.dateline == "Chasiv Yar (Ukraine)"
    start, end = article.boilerplate[-1]
    assert article.body[start:end] == article.credit_line


def test_leading_date_marker_is_the_raw_publication_date_and_photo_credits_are_boilerplate():
    article = parse_article(seed("003"))
    assert article.published == "2023-06"
    assert article.language == "fr"
    spans = [article.body[s:e] for s, e in article.boilerplate]
    assert spans[0].strip() == "date 2023-06"
    assert "Crédit : Twitter – @intermarium24" in spans
    assert "Crédit : AP" in spans


@pytest.mark.parametrize(
    "body",
    [
        "Photo: Reuters. Said: yes\nPICTURE  :\n AFP\nphotograph:: x",
        "Time 10:30. Crédits\t: AP – ici : là\nФото: ТАСС",
        "Photography: none; Credit:x: y\n: Photo :",
    ],
)
def test_photo_credits_are_the_spans_a_full_scan_finds(body):
    from streams.ingest import _patterns, _photo_credits

    credit = _patterns()["photo_credit"]
    assert _photo_credits(body, credit) == [m.span() for m in credit.finditer(body)]


def test_a_photo_credit_in_text_joined_into_one_line_is_one_word_not_the_rest_of_the_article():
    body = (
        "The ship anchors off the Cypriot port of Limassol. Photo: AP The US military said it could"
        " not detain the ship, which it said was headed for Syria. It docked in Cyprus on January 29."
    )
    article = parse_article(body.encode())
    assert [body[s:e] for s, e in article.boilerplate] == ["Photo: AP"]


def test_article_without_any_date_has_none():
    article = parse_article(seed("002"))
    assert article.published is None and article.credit_line is None
    assert article.language == "fr"


@pytest.mark.parametrize(
    ("text", "dateline", "source"),
    [
        ("SALVADOR, Feb 26 - Coffee prices rose sharply.", "SALVADOR, Feb 26", None),
        ("KYIV, Ukraine (AP) — Russia fired missiles.", "KYIV, Ukraine", "AP"),
        ("PARIS (Reuters) - The French government said.", "PARIS", "Reuters"),
        ("NEW YORK, March 3 (Reuters) - Stocks fell.", "NEW YORK, March 3", "Reuters"),
    ],
)
def test_capitalised_datelines(text, dateline, source):
    article = parse_article(text.encode())
    assert (article.dateline, article.source) == (dateline, source)


def test_a_given_dateline_wins_over_the_one_in_the_text():
    article = parse_article(b'{"body": "PARIS (Reuters) - x", "dateline": "LYON"}')
    assert article.dateline == "LYON"


@pytest.mark.parametrize(
    ("raw", "error_class"),
    [
        (b'{"body": "unterminated', "InvalidJson"),
        (b"[1, 2, 3]", "NotAnObject"),
        (b"42", "NotAnObject"),
        (b'"just a string"', "NotAnObject"),
        (b"null", "NotAnObject"),
        (b'{"id": "x"}', "MissingBody"),
        (b'{"body": ""}', "EmptyBody"),
        (b'{"body": "   \\n "}', "EmptyBody"),
        (b"", "EmptyBody"),
        (b"   ", "EmptyBody"),
        (b'{"body": 12}', "WrongFieldType"),
        (b'{"body": "x", "headline": ["a"]}', "WrongFieldType"),
        (b'{"body": "x", "id": {"a": 1}}', "WrongFieldType"),
        (b'{"body": "x", "id": true}', "WrongFieldType"),
        (b'{"body": "x", "language": "not a tag"}', "InvalidLanguage"),
        (b"caf\xe9 au lait", "InvalidUtf8"),
        (b'{"body": "\xff"}', "InvalidUtf8"),
    ],
)
def test_bad_inputs_are_rejected_with_their_class(raw, error_class):
    error = rejection(raw)
    assert error.error_class == error_class
    assert error.stage == "ingest"
    assert error.reason


def test_body_over_the_limit_is_rejected_and_the_reason_gives_both_sizes():
    error = rejection(orjson.dumps({"body": "x" * 2000}), max_body_bytes=1000)
    assert error.error_class == "BodyTooLarge"
    assert "2,000" in error.reason and "1,000" in error.reason


def test_huge_record_is_rejected_before_parsing():
    assert rejection(b"x" * 100_000, max_body_bytes=1000).error_class == "RecordTooLarge"


def test_deeply_nested_json_is_rejected_not_crashing():
    assert rejection(b'{"body": "x", "n": ' + b"[" * 5000 + b"]" * 5000 + b"}").error_class == "InvalidJson"


def test_control_characters_are_kept_in_the_body():
    article = parse_article(b'{"body": "a\\u0000b\\u0007c"}')
    assert article.body == "a\x00b\x07c"
