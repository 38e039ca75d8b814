"""Ingest stage: raw record bytes -> `Article`, or `Rejected` with a readable reason.

A record value is either a JSON object (`body` required; `id`, `source`, `url`, `language`,
`headline`, `published`, `dateline` optional; anything else kept under `extra`) or plain UTF-8
text, a dispatch as it arrives. In both, the body is kept exactly as published and what the
text itself says is recognised: an opening dateline, a closing credit line, a leading date
marker, photo credits.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from importlib import resources
from typing import Any

import orjson
import xxhash

from streams.deadletter import Rejected
from streams.language import identify, primary_subtag
from streams.records import Article

TEXT_FIELDS = ("source", "url", "language", "headline", "published", "dateline")
CREDIT_CHARS = 60  # a photo credit longer than this up to the line's end is a caption or the article
_BCP47 = re.compile(r"^[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*$")
# JSON values that are not objects still parse; plain text starting like this would be odd.
_JSON_START = frozenset("{[")
_JSON_SCALAR = re.compile(rb"^\s*(?:-?\d[\d.eE+-]*|true|false|null|\"(?:[^\"\\]|\\.)*\")\s*$")


@cache
def _markers() -> dict[str, Any]:
    return orjson.loads(resources.files("streams").joinpath("data/ingest/markers.json").read_bytes())


@cache
def _patterns() -> dict[str, re.Pattern[str]]:
    data = _markers()
    agencies = "|".join(re.escape(a) for a in sorted(data["agencies"], key=len, reverse=True))
    credit_words = sorted(
        {w for words in data["photo_credit"].values() for w in words}, key=len, reverse=True
    )
    marker_words = "|".join(re.escape(w) for w in data["date_marker"])
    dash = r"[-–—]{1,2}"
    return {
        # " date 2023-06 Les troupes ..." : a feed's date header left in the text.
        "date_marker": re.compile(
            rf"^\s*(?:{marker_words})\s*:?\s*"
            rf"(\d{{4}}(?:-\d{{2}}){{0,2}}(?:[T ]\d{{2}}:\d{{2}}(?::\d{{2}})?)?)(?=\s)",
            re.IGNORECASE,
        ),
        # "(Chassiv Iar) A small group of civilians ..."
        "paren_dateline": re.compile(r"^\s*\(([^()\n]{2,60})\)\s*(?:[-–—]{1,2}\s*)?"),
        # "SALVADOR, Feb 26 - ...", "KYIV, Ukraine (AP) — ...", "PARIS (Reuters) - ..."
        "caps_dateline": re.compile(
            r"^\s*(?P<place>[A-Z][A-Z'’.\-]+(?: [A-Z][A-Z'’.\-]+){0,3})"
            r"(?:,\s*(?P<region>[A-Z][A-Za-z.'’\-]+(?: [A-Z][A-Za-z.'’\-]+){0,2}))??"
            r"(?:,\s*(?P<date>[A-Z][a-z]{2,8}\.? \d{1,2}))?"
            rf"\s*(?:\((?P<agency>{agencies})\))?\s*{dash}\s"
        ),
        "agency": re.compile(rf"\((?P<agency>{agencies})\)"),
        # "03/08/2023 20:37:21 – Chasiv Yar (Ukraine) (AFP) – © 2023 AFP"
        "credit_stamp": re.compile(
            rf"^\s*(?P<stamp>\d{{1,4}}[/.-]\d{{1,2}}[/.-]\d{{1,4}}(?:,?\s+\d{{1,2}}[:h]\d{{2}}(?::\d{{2}})?)?)"
            rf"\s*{dash}\s*(?P<place>[^©]*?)\s*(?:\((?:{agencies})\))?\s*(?:{dash}\s*)?(?:©.*)?$"
        ),
        # "Crédit : Twitter – @intermarium24" ends a caption line: the credit runs to the line's
        # end. In text whose paragraphs were joined into one line ("Photo: AP The US military
        # said ...") the rest of the line is the article: the credit is then one word.
        "photo_credit": re.compile(
            r"\b(?:" + "|".join(re.escape(w) for w in credit_words) + r")\s*:\s*"
            rf"(?:\S[^\n]{{0,{CREDIT_CHARS - 1}}}(?=\n|\Z)|\S+)",
            re.IGNORECASE,
        ),
    }


def parse_article(raw: bytes, *, max_body_bytes: int = 1_000_000) -> Article:
    """Return the article in `raw`, or raise `Rejected` saying why there is none."""
    if len(raw) > 2 * max_body_bytes + 65_536:
        raise Rejected(
            "RecordTooLarge", f"record of {len(raw):,} bytes exceeds the {max_body_bytes:,}-byte body limit"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Rejected("InvalidUtf8", f"not valid UTF-8 at byte {error.start}: {error.reason}") from None
    text = text.removeprefix("\ufeff")
    stripped = text.lstrip()
    if not stripped:
        raise Rejected("EmptyBody", "the record is empty")
    if stripped[0] in _JSON_START or _JSON_SCALAR.match(raw):
        article = _from_json(text)
    else:
        article = Article(id="", body=text)
    _check_body(article.body, max_body_bytes)
    _recognise(article)
    if not article.id:
        article.id = article_id(article.body)
    article.language = primary_subtag(article.language) if article.language else identify(article.body)
    return article


def article_id(body: str) -> str:
    """Return a stable id for a body: a hash of its text with Unicode and white space normalised."""
    normalised = " ".join(unicodedata.normalize("NFC", body).split())
    return xxhash.xxh3_128_hexdigest(normalised.encode("utf-8"))


def _from_json(text: str) -> Article:
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as error:
        raise Rejected("InvalidJson", f"invalid JSON: {error}") from None
    if not isinstance(data, dict):
        raise Rejected("NotAnObject", f"JSON value is {_json_type(data)}, not an object")
    body = data.pop("body", None)
    if body is None:
        raise Rejected("MissingBody", "the JSON object has no 'body' field")
    if not isinstance(body, str):
        raise Rejected("WrongFieldType", f"'body' must be a string, got {_json_type(body)}")
    fields: dict[str, str | None] = {}
    for name in TEXT_FIELDS:
        value = data.pop(name, None)
        if value is not None and not isinstance(value, str):
            raise Rejected("WrongFieldType", f"'{name}' must be a string, got {_json_type(value)}")
        fields[name] = value or None
    raw_id = data.pop("id", None)
    if raw_id is not None and (isinstance(raw_id, bool) or not isinstance(raw_id, str | int)):
        raise Rejected("WrongFieldType", f"'id' must be a string or an integer, got {_json_type(raw_id)}")
    language = fields.pop("language")
    if language is not None and not _BCP47.match(language):
        raise Rejected(
            "InvalidLanguage", f"'language' must be a BCP 47 tag like 'en' or 'fr-FR', got {language!r}"
        )
    return Article(
        id=str(raw_id).strip() if raw_id is not None else "",
        body=body,
        language=language,
        extra=data,
        **fields,  # type: ignore[arg-type]
    )


def _check_body(body: str, max_body_bytes: int) -> None:
    if not body.strip():
        raise Rejected("EmptyBody", "the body is empty")
    size = len(body.encode("utf-8", "surrogatepass"))
    if size > max_body_bytes:
        raise Rejected(
            "BodyTooLarge", f"body of {size:,} bytes exceeds the limit of {max_body_bytes:,} bytes"
        )


def _recognise(article: Article) -> None:
    """Fill what the text says of itself: date marker, dateline, credit line, photo credits."""
    patterns = _patterns()
    body = article.body
    head_end = 0
    if marker := patterns["date_marker"].match(body):
        article.published = article.published or marker.group(1)
        article.boilerplate.append((marker.start(), marker.end()))
        head_end = marker.end()
    head = body[head_end:]
    if paren := patterns["paren_dateline"].match(head):
        article.dateline = article.dateline or paren.group(1).strip()
    elif caps := patterns["caps_dateline"].match(head):
        parts = [caps.group(g) for g in ("place", "region", "date") if caps.group(g)]
        article.dateline = article.dateline or ", ".join(parts)
        article.source = article.source or caps.group("agency")
    _recognise_credit_line(article, patterns)
    article.boilerplate.extend(_photo_credits(body, patterns["photo_credit"]))
    article.boilerplate.sort()


def _photo_credits(body: str, credit: re.Pattern[str]) -> list[tuple[int, int]]:
    """Return the spans of the photo credits ("Photo: Reuters") in `body`, in text order.

    The same spans as `credit.finditer(body)`, but the pattern is tried only just before each
    colon, which every credit holds: a case-insensitive scan of the whole body costs more than
    the rest of the stage.
    """
    spans: list[tuple[int, int]] = []
    reach = _longest_credit_word()
    done = 0  # where the last credit ended: credits do not overlap
    colon = body.find(":")
    while colon >= 0:
        word_end = colon  # the credit word ends where the white space before the colon starts
        while word_end > 0 and body[word_end - 1].isspace():
            word_end -= 1
        for start in range(max(done, word_end - reach), word_end):
            if found := credit.match(body, start):
                spans.append(found.span())
                done = found.end()
                break
        colon = body.find(":", max(colon + 1, done))
    return spans


@cache
def _longest_credit_word() -> int:
    return max(len(w) for words in _markers()["photo_credit"].values() for w in words)


def _recognise_credit_line(article: Article, patterns: dict[str, re.Pattern[str]]) -> None:
    body = article.body
    end = len(body.rstrip())
    start = body.rfind("\n", 0, end) + 1
    line = body[start:end]
    if not line or len(line) > 250:
        return
    stamp = patterns["credit_stamp"].match(line)
    agency = patterns["agency"].search(line)
    if stamp is None and not ("©" in line and agency):
        return
    article.credit_line = line.strip()
    article.boilerplate.append((start + len(line) - len(line.lstrip()), end))
    if agency:
        article.source = article.source or agency.group("agency")
    if stamp and stamp.group("place"):
        article.dateline = article.dateline or stamp.group("place").strip(" -–—")


def _json_type(value: object) -> str:
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")
