"""Benchmark of the dates stage: TempEval-3 Task A scores, Reuters dateline agreement, speed.

Reads `../shared/bench-data` (never copied into the repo):
- `timeml-en-meantime`: MEANTIME English (NAF/CAT XML, tokens + TIMEX3 token anchors);
- `timeml-fr`: French TimeBank (inline ISO-TimeML);
- `reuters21578`: the 1987 Reuters wire, DATELINE against the DATE stamp.

Scores like TempEval-3 Task A: the document creation time is given as the publication time and
is not scored; strict span F1 (exact span), relaxed span F1 (any overlap), value F1 (relaxed
match with the same normalised value). Prints a table.

Usage: .venv/bin/python bench/bench_dates.py [--errors en|fr] [--limit N]
"""

from __future__ import annotations

import argparse
import html
import re
import statistics
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from streams.dates import find_dates, publication_time
from streams.records import Article, Published

DATA = Path(__file__).resolve().parents[2] / "shared" / "bench-data"


@dataclass
class Gold:
    start: int
    end: int
    value: str
    type: str
    text: str


@dataclass
class Doc:
    name: str
    body: str
    dct: str
    golds: list[Gold]
    skip: list[tuple[int, int]]  # spans holding the creation time itself (not scored)
    language: str


_NO_SPACE_BEFORE = {
    ",",
    ".",
    ";",
    ":",
    "!",
    "?",
    ")",
    "]",
    "'s",
    "n't",
    "%",
    "''",
    "'",
    "'re",
    "'ve",
    "'ll",
    "'d",
    "'m",
}
_NO_SPACE_AFTER = {"(", "[", "``", "$"}


def load_meantime() -> list[Doc]:
    """Return the MEANTIME English documents, detokenised, with token-anchored TIMEX3 spans."""
    docs = []
    root_dir = DATA / "timeml-en-meantime" / "intra-doc_annotation"
    for path in sorted(root_dir.glob("*/*.xml")):
        root = ET.parse(path).getroot()
        # MEANTIME annotates only the opening sentences (title, date, first sentences): score the
        # text up to the last sentence holding any annotation, as the gold covers nothing beyond.
        sentence_of = {t.get("t_id"): int(t.get("sentence") or 0) for t in root.iter("token")}
        markables = root.find("Markables")
        last_sentence = max(
            (
                sentence_of.get(a.get("t_id"), 0)
                for el in (markables if markables is not None else [])
                for a in el.findall("token_anchor")
            ),
            default=0,
        )
        parts: list[str] = []
        spans: dict[str, tuple[int, int]] = {}
        pos = 0
        prev_tok = None
        prev_sent = None
        for tok in root.iter("token"):
            if int(tok.get("sentence") or 0) > last_sentence:
                break
            text = tok.text or ""
            sent = tok.get("sentence")
            if prev_tok is not None:
                if sent != prev_sent and prev_sent in ("0", "1"):
                    sep = "\n"  # title and date line stand on lines of their own
                elif text in _NO_SPACE_BEFORE or prev_tok in _NO_SPACE_AFTER:
                    sep = ""
                else:
                    sep = " "
                parts.append(sep)
                pos += len(sep)
            spans[tok.get("t_id")] = (pos, pos + len(text))
            parts.append(text)
            pos += len(text)
            prev_tok, prev_sent = text, sent
        body = "".join(parts)
        golds: list[Gold] = []
        dct = None
        skip = []
        for tx in root.iter("TIMEX3"):
            ids = [a.get("t_id") for a in tx.findall("token_anchor")]
            if tx.get("functionInDocument") == "CREATION_TIME":
                dct = tx.get("value")
                if ids:
                    skip.append((spans[ids[0]][0], spans[ids[-1]][1]))
                continue
            if not ids:
                continue
            s, e = spans[ids[0]][0], spans[ids[-1]][1]
            golds.append(Gold(s, e, tx.get("value") or "", tx.get("type") or "", body[s:e]))
        if dct and re.fullmatch(r"\d\d-\d\d-\d{4}", dct):
            # One creation time is written DD-MM-YYYY (its text reports January's sales "last month").
            dct = f"{dct[6:]}-{dct[3:5]}-{dct[:2]}"
        if dct:
            docs.append(Doc(path.stem, body, dct, golds, skip, "en"))
    return docs


_TAG = re.compile(r"<(/?)([A-Za-z0-9_]+)([^>]*?)(/?)>")
_ATTR = re.compile(r'(\w+)="([^"]*)"')


def load_french_timebank() -> list[Doc]:
    """Return the French TimeBank documents with the inline TIMEX3 spans as offsets."""
    docs = []
    for path in sorted((DATA / "timeml-fr").glob("*.tml")):
        raw = path.read_text(encoding="utf-8")
        m = re.search(r"<DCT>.*?value=\"([^\"]+)\".*?</DCT>", raw, re.S)
        dct = m.group(1) if m else None
        tm = re.search(r"<TEXT>(.*)</TEXT>", raw, re.S)
        if not dct or not tm:
            continue
        inner = tm.group(1)
        out: list[str] = []
        pos = 0
        last = 0
        stack: list[tuple[int, dict[str, str]]] = []
        golds: list[Gold] = []
        for t in _TAG.finditer(inner):
            chunk = html.unescape(inner[last : t.start()])
            out.append(chunk)
            pos += len(chunk)
            last = t.end()
            closing, name, attrs, selfclosing = t.groups()
            if name != "TIMEX3" or selfclosing:
                continue
            if not closing:
                stack.append((pos, dict(_ATTR.findall(attrs))))
            elif stack:
                s, a = stack.pop()
                golds.append(Gold(s, pos, a.get("value", ""), a.get("type", ""), ""))
        chunk = html.unescape(inner[last:])
        out.append(chunk)
        body = "".join(out)
        for g in golds:
            g.text = body[g.start : g.end]
        docs.append(Doc(path.stem, body, dct, golds, [], "fr"))
    return docs


def _granularity(value: str) -> str:
    return {4: "year", 7: "month", 10: "day"}.get(len(value), "second")


def run_doc(doc: Doc) -> tuple[list, float]:
    """Return the system's expressions for `doc` (creation-time spans removed) and seconds taken."""
    art = Article(id=doc.name, body=doc.body, language=doc.language, boilerplate=list(doc.skip))
    pub = Published(doc.dct, _granularity(doc.dct), doc.dct, "metadata")
    t0 = time.perf_counter()
    found = find_dates(art, pub)
    dt = time.perf_counter() - t0
    found = [f for f in found if not any(f.start < e and s < f.end for s, e in doc.skip)]
    return found, dt


def score(
    docs: list[Doc], show_errors: bool = False, run: Callable[[Doc], tuple[list, float]] | None = None
) -> dict[str, float]:
    """Return TempEval-3 Task A figures (strict, relaxed, value P/R/F1) over `docs`.

    `run(doc)` gives the system's expressions and seconds taken; by default `run_doc`.
    """
    n_sys = n_gold = strict = relaxed_sys = relaxed_gold = value_ok = 0
    times = []
    for doc in docs:
        found, dt = (run or run_doc)(doc)
        times.append(dt)
        n_sys += len(found)
        n_gold += len(doc.golds)
        used: set[int] = set()
        for f in found:
            match = None
            for i, g in enumerate(doc.golds):
                if i not in used and f.start < g.end and g.start < f.end:
                    match = i
                    if f.start == g.start and f.end == g.end:
                        break
            if match is None:
                if show_errors:
                    print(f"  FP {doc.name} {doc.dct} {f.text!r} -> {f.value}")
                continue
            used.add(match)
            g = doc.golds[match]
            relaxed_sys += 1
            if f.start == g.start and f.end == g.end:
                strict += 1
            elif show_errors:
                print(f"  SPAN {doc.name} sys {f.text!r} gold {g.text!r}")
            if f.value == g.value:
                value_ok += 1
            elif show_errors:
                print(f"  VAL {doc.name} {doc.dct} {g.text!r} gold {g.value} sys {f.value} ({f.text!r})")
        relaxed_gold += len(used)
        if show_errors:
            for i, g in enumerate(doc.golds):
                if i not in used:
                    ctx = doc.body[max(0, g.start - 30) : g.end + 30].replace("\n", " ")
                    print(f"  FN {doc.name} {doc.dct} {g.text!r} {g.type} {g.value}   ..{ctx}..")

    def f1(ok: int) -> tuple[float, float, float]:
        p = ok / n_sys if n_sys else 0.0
        r = ok / n_gold if n_gold else 0.0
        return p, r, (2 * p * r / (p + r) if p + r else 0.0)

    return {
        "docs": len(docs),
        "gold": n_gold,
        "sys": n_sys,
        "strict": f1(strict),
        "relaxed": f1(relaxed_sys),
        "value": f1(value_ok),
        "ms_median": statistics.median(times) * 1000 if times else 0.0,
        "words": statistics.median(len(d.body.split()) for d in docs) if docs else 0,
    }


_REUTERS = re.compile(r"<REUTERS.*?</REUTERS>", re.S)


def reuters_agreement(limit: int | None = None) -> dict[str, float]:
    """Return how often the dateline read alone agrees with the DATE stamp, and speed figures."""
    total = agree = unparsed = meta_ok = bad_stamps = 0
    times = []
    stories = 0
    for path in sorted((DATA / "reuters21578").glob("reut2-*.xml")):
        text = path.read_text(encoding="latin-1")
        for m in _REUTERS.finditer(text):
            block = m.group(0)
            dm = re.search(r"<DATE>([^<]*)</DATE>", block)
            dl = re.search(r"<DATELINE>([^<]*)</DATELINE>", block)
            bm = re.search(r"<BODY>(.*?)</BODY>", block, re.S)
            if not dm or not bm:
                continue
            stories += 1
            if limit and stories > limit:
                break
            stamp_raw = dm.group(1).strip()
            try:
                stamp = datetime.strptime(stamp_raw.split(".")[0], "%d-%b-%Y %H:%M:%S")
            except ValueError:  # a few stamps are garbled ("31-MAR-1987 605:12:19")
                bad_stamps += 1
                continue
            body = html.unescape(bm.group(1))
            art = Article(id=str(stories), body=body, source="Reuters", language="en", published=stamp_raw)
            t0 = time.perf_counter()
            pub = publication_time(art, stamp.replace(tzinfo=UTC))
            find_dates(art, pub)
            times.append((time.perf_counter() - t0, len(body.split())))
            if pub.value and pub.value.startswith(stamp.strftime("%Y-%m-%dT%H:%M:%S")):
                meta_ok += 1
            if not dl:
                continue
            total += 1
            # The dateline alone: the year comes from context (here the broker time, a day later).
            art2 = Article(
                id=str(stories), body=body, source="Reuters", language="en", dateline=dl.group(1).strip()
            )
            ingest = stamp.replace(tzinfo=UTC)
            p2 = publication_time(art2, ingest)
            if p2.value is None or p2.origin != "dateline":
                unparsed += 1
            elif p2.value[:10] == stamp.strftime("%Y-%m-%d"):
                agree += 1
        if limit and stories > limit:
            break
    ms = [t * 1000 for t, _ in times]
    per700 = [t * 1000 * 700 / max(w, 1) for t, w in times]
    return {
        "stories": min(stories, limit or stories),
        "datelines": total,
        "agree": agree / total if total else 0.0,
        "unparsed": unparsed,
        "meta_ok": meta_ok / len(times) if times else 0.0,
        "bad_stamps": bad_stamps,
        "ms_median": statistics.median(ms) if ms else 0.0,
        "ms_per700": statistics.median(per700) if per700 else 0.0,
    }


def speed_700(docs: list[Doc]) -> tuple[float, float, int]:
    """Return (median ms, p99 ms) for both functions on ~700-word texts built from `docs`."""
    texts = []
    for lang in ("en", "fr"):
        pool = " ".join(d.body for d in docs if d.language == lang).split(" ")
        for i in range(0, max(len(pool) - 700, 1), 350):
            texts.append((" ".join(pool[i : i + 700]), lang))
    times = []
    for body, lang in texts:
        art = Article(
            id="x",
            body=body,
            language=lang,
            credit_line="03/08/2023 20:37:21 – Chasiv Yar (Ukraine) (AFP)",
            source="AFP",
        )
        # Best of 3 runs per text: the machine is shared, and the least disturbed run is the
        # closest to the cost on one free core.
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            pub = publication_time(art, datetime(2023, 3, 9, tzinfo=UTC))
            find_dates(art, pub)
            best = min(best, time.perf_counter() - t0)
        times.append(best * 1000)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99)], len(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--errors", choices=["en", "fr"], help="print every error for one corpus")
    ap.add_argument("--limit", type=int, default=None, help="Reuters stories to read")
    args = ap.parse_args()
    en = load_meantime()
    fr = load_french_timebank()
    if args.errors:
        score(en if args.errors == "en" else fr, show_errors=True)
        return
    # Warm up the lazily compiled tables so the first document's time is not an outlier.
    run_doc(en[0])
    run_doc(fr[0])
    rows = [("EN MEANTIME", score(en)), ("FR TimeBank", score(fr))]
    print(
        f"{'corpus':<13} {'docs':>4} {'gold':>5} {'sys':>5}  {'strict P/R/F1':>17}  "
        f"{'relaxed P/R/F1':>17}  {'value P/R/F1':>17}  {'ms/doc':>6}"
    )
    for name, r in rows:
        cells = "  ".join(
            "{:5.1f} {:5.1f} {:5.1f}".format(*(100 * x for x in r[k])) for k in ("strict", "relaxed", "value")
        )
        print(f"{name:<13} {r['docs']:>4} {r['gold']:>5} {r['sys']:>5}  {cells}  {r['ms_median']:6.3f}")
    print("HeidelTime 1.8 to beat: EN strict 81.34 relaxed 90.30 value 77.61; FR 85.99 / 90.97 / 73.63")
    ok = sum(
        1
        for d in en
        if publication_time(
            Article(id=d.name, body=d.body, language="en"), datetime(2020, 1, 1, tzinfo=UTC)
        ).value
        == d.dct
    )
    print(f"MEANTIME creation time read from the body's date line (origin text): {ok}/{len(en)} agree")
    med, p99, n = speed_700(en + fr)
    print(
        f"speed, publication_time + find_dates on {n} texts of 700 words (best of 3 runs each): "
        f"median {med:.3f} ms, p99 {p99:.3f} ms"
    )
    seeds = sorted((Path(__file__).resolve().parents[1] / "seeds").glob("*.txt"))
    seed_ms = []
    for path in seeds:
        art = Article(id=path.stem, body=path.read_text(encoding="utf-8"))
        best = float("inf")
        for _ in range(5):
            t0 = time.perf_counter()
            find_dates(art, publication_time(art, datetime(2023, 3, 9, tzinfo=UTC)))
            best = min(best, time.perf_counter() - t0)
        seed_ms.append(f"{best * 1000:.2f} ms/{len(art.body.split())} words")
    print("seed articles (language guessed):", ", ".join(seed_ms))
    r = reuters_agreement(args.limit)
    print(
        f"Reuters-21578: {r['stories']} stories, {r['datelines']} datelines; dateline agrees with DATE "
        f"{100 * r['agree']:.1f}% ({r['unparsed']} unread); "
        f"DATE stamp parsed exactly {100 * r['meta_ok']:.1f}% ({r['bad_stamps']} garbled stamps skipped); "
        f"median {r['ms_median']:.3f} ms/story, {r['ms_per700']:.3f} ms per 700 words"
    )


if __name__ == "__main__":
    main()
