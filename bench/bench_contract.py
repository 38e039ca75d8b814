"""Accuracy through the contract: `newswire enrich` on the development corpora, scored as the benches score.

The stage benches call each stage with what the corpus knows: the language, the creation time as a
parsed value, the article as a record. The product is measured through `newswire enrich PATH`:
JSON lines in, events out, the language guessed, the publication time read from the `published`
string, and the text's datelines, credits and boilerplate recognised by ingest. This bench writes
each corpus as JSON lines, runs the command in a child process, and scores the events beside the
stage bench's figure, so that a difference shows what the contract path loses or adds:
- dates: TempEval-3 Task A on MEANTIME English and French TimeBank ({id, body, published});
- places: LGL end to end ({id, body});
- dedup: the labelled Reuters-21578 pairs ({id, headline, body, published}, in NEWID order).

Run: .venv/bin/python -m bench.bench_contract
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from bench import bench_dates, bench_dedup, bench_places


class Found(NamedTuple):
    """A temporal expression of an event, as `bench_dates.score` reads it."""

    start: int
    end: int
    value: str
    text: str


def enrich(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Run `newswire enrich` on `records` written as JSON lines; return its events by article id."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "articles.jsonl"
        path.write_bytes(b"".join(orjson.dumps(record) + b"\n" for record in records))
        done = subprocess.run(
            [sys.executable, "-m", "streams.cli", "enrich", str(path)], capture_output=True, check=True
        )
    return {event["id"]: event for event in map(orjson.loads, done.stdout.splitlines())}


def f1s(scores: dict[str, Any]) -> str:
    return " / ".join(f"{100 * scores[kind][2]:.1f}" for kind in ("strict", "relaxed", "value"))


def dates_rows() -> list[tuple[str, str, str]]:
    rows = []
    for name, docs in (
        ("EN MEANTIME", bench_dates.load_meantime()),
        ("FR TimeBank", bench_dates.load_french_timebank()),
    ):
        events = enrich([{"id": doc.name, "body": doc.body, "published": doc.dct} for doc in docs])

        def run(doc: bench_dates.Doc, events: dict[str, dict[str, Any]] = events) -> tuple[list, float]:
            found = [Found(d["start"], d["end"], d["value"], d["text"]) for d in events[doc.name]["dates"]]
            # The creation time written in the text is not scored (the stage bench skips it too).
            return [f for f in found if not any(f.start < e and s < f.end for s, e in doc.skip)], 0.0

        guessed = Counter(events[doc.name]["language"] == doc.language for doc in docs)
        rows.append(
            (
                f"dates, {name}: strict / relaxed / value F1",
                f1s(bench_dates.score(docs, run=run)),
                f1s(bench_dates.score(docs)),
            )
        )
        rows.append((f"dates, {name}: language guessed right", f"{guessed[True]} of {len(docs)}", "given"))
    return rows


def places_rows() -> list[tuple[str, str, str]]:
    docs = bench_places.load_lgl(None)
    events = enrich([{"id": str(number), "body": text} for number, (text, _) in enumerate(docs)])
    by_text = {text: events[str(number)] for number, (text, _) in enumerate(docs)}

    def contract(text: str) -> list[bench_places.Mention]:
        return [
            (m["start"], m["end"], p["lat"], p["lon"]) for p in by_text[text]["places"] for m in p["mentions"]
        ]

    got = bench_places.end_to_end(docs, contract)
    stage = bench_places.end_to_end(docs, bench_places.stage_mentions)
    figures = lambda f: f"{f['p']:.3f} / {f['r']:.3f} / {f['f1']:.3f}; @161 km {f['acc161_matched']:.3f}"  # noqa: E731
    return [("places, LGL end to end: P / R / F1; accuracy@161 km of matched", figures(got), figures(stage))]


def dedup_rows() -> list[tuple[str, str, str]]:
    stories = bench_dedup.load(bench_dedup.DATA)
    events = enrich(
        [{"id": s.newid, "headline": s.title, "body": s.body, "published": s.date} for s in stories]
    )
    contract = {i: (e["story"]["relation"], e["story"]["id"]) for i, e in events.items()}
    verdicts, _ = bench_dedup.stream(stories, 72.0)
    stage = {i: (v.relation, v.id) for i, v in verdicts.items()}
    rows = [
        (f"dedup, {name}", value, stage_value)
        for (name, value), (_, stage_value) in zip(
            bench_dedup.labelled_rows(contract), bench_dedup.labelled_rows(stage), strict=True
        )
    ]
    same = sum(contract[i] == stage[i] for i in stage)
    rows.append(
        ("dedup, Reuters-21578: verdicts equal to the stage bench's", f"{same:,} of {len(stage):,}", "")
    )
    return rows


def main() -> int:
    rows = [*dates_rows(), *places_rows(), *dedup_rows()]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    header = ("through newswire enrich", "contract", "stage bench")
    widths = [max(w, len(h)) for w, h in zip(widths, header, strict=True)]
    for row in (header, tuple("-" * w for w in widths), *rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
