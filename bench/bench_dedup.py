"""Benchmark the dedup stage on Reuters-21578: accuracy of its links, speed, and state size.

Streams every story with a body through `fingerprint` + `StoryIndex.check` in NEWID order (the
order the corpus ran in), publication time from DATE, and compares the index's duplicate and
update links with
  1. an exhaustive offline comparison: `relate` on the *full* shingle and figure sets of every pair
     published within the window (no sampling, no candidate lists), i.e. what the streaming index
     misses or adds through sampling, candidate selection and arrival order;
  2. the hand-labelled candidate pairs in bench/data/dedup_pairs.jsonl.
Prints one table. Run: .venv/bin/python bench/bench_dedup.py [--limit N] [--data DIR]
"""

from __future__ import annotations

import argparse
import gc
import html
import random
import re
import time
import tracemalloc
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import orjson

from streams import dedup
from streams.records import Article, StoryVerdict

DATA = Path(__file__).resolve().parents[2] / "shared" / "bench-data" / "reuters21578"
PAIRS = Path(__file__).resolve().parent / "data" / "dedup_pairs.jsonl"
LINKS = ("duplicate", "update")
_STORY = re.compile(r'<REUTERS[^>]*NEWID="(\d+)"[^>]*>(.*?)</REUTERS>', re.S)
_DATE = re.compile(r"(\d+)-([A-Z]{3})-(\d{4})\s+(\d+):(\d\d):(\d\d)")


@dataclass(slots=True)
class Story:
    newid: str
    title: str | None
    date: str  # ISO 8601
    body: str


def _field(tag: str, text: str) -> str | None:
    found = re.search(rf"<{tag}>(.*?)</{tag}>", text, re.S)
    return html.unescape(found.group(1)) if found else None


def _iso(stamp: str) -> str:
    """Return a Reuters DATE ("26-FEB-1987 15:01:01.79") as ISO 8601; a few stamps have hours > 23."""
    day, month, year, hour, minute, second = _DATE.match(stamp.strip()).groups()
    moment = datetime.strptime(
        f"{day}-{month}-{year} {min(int(hour), 23)}:{minute}:{second}", "%d-%b-%Y %H:%M:%S"
    )
    return moment.isoformat()


def load(folder: Path) -> list[Story]:
    """Return every story with a body, in NEWID order."""
    stories = []
    for path in sorted(folder.glob("reut2-*.xml")):
        for match in _STORY.finditer(path.read_text(encoding="latin-1")):
            text = match.group(2)
            body = _field("BODY", text)
            if body and body.strip():
                stories.append(Story(match.group(1), _field("TITLE", text), _iso(_field("DATE", text)), body))
    stories.sort(key=lambda s: int(s.newid))
    return stories


def article(story: Story) -> Article:
    return Article(id=story.newid, body=story.body, headline=story.title, language="en")


def stream(stories: list[Story], window_hours: float) -> tuple[dict[str, StoryVerdict], dict[str, float]]:
    """Return the verdicts of the streaming index and its timings and state figures."""
    # The fingerprint crosses a topic as JSON: encoded here as the enrichment agent does, decoded
    # below as the dedup agent does (bytes only are kept, so the timing is not the GC's).
    # CPU time, not wall time: the machine is shared, and a busy neighbour should not count.
    articles = [(article(story), story.date) for story in stories]
    started = time.process_time()
    wire = [orjson.dumps(dedup.fingerprint(text, date, [], [])) for text, date in articles]
    fingerprint_s = time.process_time() - started
    state: dict[str, bytes] = {}
    index = dedup.StoryIndex(state, window_hours=window_hours)
    verdicts: dict[str, StoryVerdict] = {}
    sizes, peak_entries, check_s = [], 0, 0.0
    for number, raw in enumerate(wire, 1):
        started = time.process_time()
        fp = dedup.StoryFingerprint.from_json(orjson.loads(raw))
        verdicts[fp.article_id] = index.check(fp)
        check_s += time.process_time() - started
        if number % 250 == 0 and len(index):
            total = sum(len(k) + len(v) for k, v in state.items())
            sizes.append(total / len(index))
            peak_entries = max(peak_entries, len(index))
    n = len(stories)
    return verdicts, {
        "fingerprint_ms": 1000 * fingerprint_s / n,
        "check_ms": 1000 * check_s / n,
        "state_mean": float(np.mean(sizes)) if sizes else 0.0,
        "state_max": float(np.max(sizes)) if sizes else 0.0,
        "peak_entries": peak_entries,
        "wire_bytes": float(np.mean([len(w) for w in wire])),
    }


def memory_per_article(stories: list[Story]) -> tuple[float, float]:
    """Return (Python heap bytes per indexed article, seconds to rebuild) with every story in one window.

    The heap counts the in-process cache and the dict standing in for the state store; this is
    what bounds the window a single dedup partition can hold.
    """
    wire = [orjson.dumps(dedup.fingerprint(article(s), s.date)) for s in stories]
    index = dedup.StoryIndex({}, window_hours=1e9)
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    for raw in wire:
        index.check(dedup.StoryFingerprint.from_json(orjson.loads(raw)))
    gc.collect()
    heap = tracemalloc.get_traced_memory()[0] - base
    tracemalloc.stop()
    started = time.process_time()
    index.rebuild()
    rebuild_s = time.process_time() - started
    return heap / len(index), rebuild_s


def full_sketch(story: Story) -> tuple[dedup.Sketch, float]:
    """Return the unsampled sketch of a story (every shingle, every figure) and its publication time."""
    text_article = article(story)
    words, figures = dedup.tokens(dedup.prose(text_article), text_article.language)
    sequence = dedup.shingle_sequence(words)
    shingles = dedup.distinct(sequence)
    numbers = np.unique(np.fromiter((dedup._figure_hash(f) for f in set(figures)), dtype=np.uint32))
    marker = dedup.find_marker(story.title, story.body)
    headline = np.array(dedup.headline_words(story.title, text_article.language), dtype=np.uint32)
    sketch = dedup.Sketch(
        len(shingles),
        dedup.FULL_CUT,
        shingles,
        dedup.FULL_CUT,
        numbers,
        marker,
        sequence[: dedup.LEDE],
        headline,
    )
    return sketch, dedup.parse_time(story.date) or 0.0


def exhaustive(
    stories: list[Story], window_hours: float, overlap: float = dedup.DEFAULT_THRESHOLDS.least_overlap
) -> tuple[dict[str, set[str]], int]:
    """Return, for each story, the earlier stories (stream order) within the window it is a version of.

    All pairs sharing at least `overlap` of the smaller shingle set are compared (prefix filtering:
    such a pair shares one of the smaller set's rarest (1 - overlap) * n + 1 shingles), which is
    every pair `relate` can link. Also returns how many pairs were compared.
    """
    sketches = [full_sketch(s) for s in stories]
    frequency: Counter[int] = Counter()
    for sketch, _ in sketches:
        frequency.update(sketch.sample.tolist())
    prefix_index: dict[int, list[int]] = defaultdict(list)
    full_index: dict[int, list[int]] = defaultdict(list)
    prefixes = []
    for position, (sketch, _) in enumerate(sketches):
        shingles = sorted(sketch.sample.tolist(), key=lambda h: (frequency[h], h))
        prefix = shingles[: len(shingles) - int(np.ceil(overlap * len(shingles))) + 1]
        prefixes.append(prefix)
        for h in prefix:
            prefix_index[h].append(position)
        for h in shingles:
            full_index[h].append(position)
    window = window_hours * 3600
    partners: dict[str, set[str]] = defaultdict(set)
    compared = 0
    for b, (sketch, ts) in enumerate(sketches):
        candidates: set[int] = set()
        for h in sketch.sample.tolist():  # b larger: some earlier a's prefix shingle is in b
            candidates.update(a for a in prefix_index.get(h, ()) if a < b)
        for h in prefixes[b]:  # b smaller: one of b's prefix shingles is in a
            candidates.update(a for a in full_index.get(h, ()) if a < b)
        for a in candidates:
            old, old_ts = sketches[a]
            if abs(ts - old_ts) > window:
                continue
            compared += 1
            if dedup.relate(sketch, old) is not None:
                partners[stories[b].newid].add(stories[a].newid)
    return partners, compared


def paragraphs(body: str) -> list[str]:
    """Return a Reuters body's paragraphs (indented lines start them), without the sign-off."""
    parts = [" ".join(p.split()) for p in re.split(r"\n {3,}", body)]
    return [p for p in parts if p and p.lower() not in ("reuter", "reuters")]


_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")


def variants(stories: list[Story], count: int, seed: int = 1987) -> dict[str, Counter[str]]:
    """Return, per kind of synthetic variant, how the index relates it to its original.

    Each original (a story of 4+ paragraphs) is checked into a fresh index, then one variant:
    republished under another headline with a credit line, lightly edited, trimmed (to three
    fifths, and to its first two paragraphs), re-topped
    (new lede, rest kept), updated ("UPDATE 1" + new paragraphs), extended without a marker,
    and a template twin whose every figure differs. New copy comes from another story.
    """
    rng = random.Random(seed)
    pool = [s for s in stories if len(paragraphs(s.body)) >= 4]
    chosen = rng.sample(pool, min(count, len(pool)))
    outcome: dict[str, Counter[str]] = defaultdict(Counter)
    for number, story in enumerate(chosen):
        original = paragraphs(story.body)
        other = paragraphs(rng.choice(pool).body)
        words = " ".join(original).split()
        for _ in range(3):  # edits: three words dropped
            del words[rng.randrange(len(words))]
        kinds = {
            "republished": (
                "\n\n".join([*original, "Reporting by A. Writer; editing by B. Editor"]),
                "NEW HEADLINE",
            ),
            "edited": (" ".join(words), story.title),
            "trimmed": ("\n\n".join(original[: max(2, (len(original) * 3 + 4) // 5)]), story.title),
            "trimmed to two paragraphs": ("\n\n".join(original[:2]), story.title),
            "re-topped": ("\n\n".join([other[0], *original[1:]]), story.title),
            "updated": ("\n\n".join([*original, *other[:2]]), f"UPDATE 1-{story.title}"),
            "extended": ("\n\n".join([*original, *other[:2]]), story.title),
            "template (figures differ)": (
                _FIGURE.sub(lambda m: str(int(re.sub(r"\D", "", m.group(0)) or 0) + 7), story.body),
                story.title,
            ),
        }
        if len(_FIGURE.findall(story.body)) < 3:  # too few figures to make a template twin of
            del kinds["template (figures differ)"]
        for kind, (body, headline) in kinds.items():
            index = dedup.StoryIndex({})
            index.check(dedup.fingerprint(article(story), story.date))
            copy = Article(id=f"v{number}", body=body, headline=headline, language="en")
            moment = (datetime.fromisoformat(story.date) + timedelta(hours=2)).isoformat()
            outcome[kind][index.check(dedup.fingerprint(copy, moment)).relation] += 1
    return outcome


EXPECTED = {
    "republished": "duplicate",
    "edited": "duplicate",
    "trimmed": "duplicate",
    "trimmed to two paragraphs": "duplicate",
    "re-topped": "update",
    "updated": "update",
    "extended": "update",
    "template (figures differ)": "new",
}


_PLACES = re.compile(r"<PLACES>(.*?)</PLACES>", re.S)


def translation_probe(folder: Path, stories: list[Story], partners: dict[str, set[str]]) -> tuple[int, int]:
    """Return (translation links made, of them between versions of one story) on a simulation.

    Reuters-21578 has no translations, so this measures only false links: every other story is
    labelled French, the PLACES countries stand in for GeoNames ids, and the index runs with
    `translations=True`. A link between texts that the exhaustive comparison does not relate
    is a false translation link: same place, same time, shared figures, different story.
    """
    countries: dict[str, list[str]] = {}
    for path in sorted(folder.glob("reut2-*.xml")):
        for match in _STORY.finditer(path.read_text(encoding="latin-1")):
            found = _PLACES.search(match.group(2))
            countries[match.group(1)] = re.findall(r"<D>(.*?)</D>", found.group(1)) if found else []
    index = dedup.StoryIndex({}, translations=True)
    made = same = 0
    for story in stories:
        language = "en" if int(story.newid) % 2 else "fr"
        text = Article(id=story.newid, body=story.body, headline=story.title, language=language)
        places = [dedup._hash32(country) for country in countries.get(story.newid, [])]
        verdict = index.check(dedup.fingerprint(text, story.date, places, []))
        if verdict.relation == "translation":
            made += 1
            same += verdict.of in partners.get(story.newid, ()) or story.newid in partners.get(verdict.of, ())
    return made, same


def labelled_rows(verdicts: dict[str, tuple[str, str]]) -> list[tuple[str, str]]:
    """Return the table rows scoring `verdicts` ({article id: (relation, story id)}) on the labelled pairs."""
    labelled = [orjson.loads(line) for line in PAIRS.read_bytes().splitlines() if line.strip()]
    confusion: Counter[tuple[str, str]] = Counter()
    for pair in labelled:
        a, b = verdicts.get(pair["a"]), verdicts.get(pair["b"])
        if a is None or b is None:
            continue
        predicted = b[0] if b[0] in LINKS and b[1] == a[1] else "different"
        confusion[(pair["label"], predicted)] += 1
    total = sum(confusion.values())
    rows = [(f"labelled pairs scored (of {len(labelled)})", str(total))]
    is_link = lambda label: label in LINKS  # noqa: E731
    tp = sum(n for (g, p), n in confusion.items() if is_link(g) and is_link(p))
    fp = sum(n for (g, p), n in confusion.items() if not is_link(g) and is_link(p))
    fn = sum(n for (g, p), n in confusion.items() if is_link(g) and not is_link(p))
    rows += [
        ("labelled: link precision (duplicate or update)", ratio(tp, tp + fp)),
        ("labelled: link recall (duplicate or update)", ratio(tp, tp + fn)),
    ]
    for relation in LINKS:
        right = confusion[(relation, relation)]
        said = sum(n for (_, p), n in confusion.items() if p == relation)
        truly = sum(n for (g, _), n in confusion.items() if g == relation)
        rows.append(
            (f"labelled: {relation} precision / recall", f"{ratio(right, said)} / {ratio(right, truly)}")
        )
    labels = ("duplicate", "update", "different")
    rows.append(
        (
            "labelled confusion (rows gold: dup, upd, diff)",
            "  ".join("/".join(str(confusion[(g, p)]) for p in labels) for g in labels),
        )
    )
    return rows


def ratio(part: int, whole: int) -> str:
    return f"{part / whole:.3f}" if whole else "n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=0, help="only the first N stories (quick runs)")
    parser.add_argument("--window-hours", type=float, default=72.0)
    parser.add_argument("--no-exhaustive", action="store_true")
    parser.add_argument("--memory", action="store_true", help="also measure the in-process cache (slow)")
    parser.add_argument("--variants", type=int, default=400, help="originals per synthetic variant kind")
    args = parser.parse_args()

    stories = load(args.data)
    if args.limit:
        stories = stories[: args.limit]
    verdicts, figures = stream(stories, args.window_hours)
    rows: list[tuple[str, str]] = []
    per_article = figures["fingerprint_ms"] + figures["check_ms"]
    rows += [
        ("stories streamed (NEWID order)", f"{len(stories):,}"),
        ("fingerprint per article, CPU, JSON encode incl. (ms)", f"{figures['fingerprint_ms']:.3f}"),
        ("check per article, CPU, JSON decode incl. (ms)", f"{figures['check_ms']:.3f}"),
        ("dedup stage per article, CPU (ms)", f"{per_article:.3f}"),
        ("throughput, one core (articles/s)", f"{1000 / per_article:,.0f}"),
        ("fingerprint on the wire, JSON (bytes, mean)", f"{figures['wire_bytes']:.0f}"),
        ("state per indexed article (bytes, mean)", f"{figures['state_mean']:.0f}"),
        ("state per indexed article (bytes, worst sample)", f"{figures['state_max']:.0f}"),
        ("articles in the window (peak)", f"{figures['peak_entries']:,}"),
    ]
    linked = {i: v for i, v in verdicts.items() if v.relation in LINKS}
    rows.append(
        (
            "streaming links: duplicate / update",
            " / ".join(str(sum(v.relation == r for v in linked.values())) for r in LINKS),
        )
    )

    if not args.no_exhaustive:
        started = time.perf_counter()
        partners, compared = exhaustive(stories, args.window_hours)
        took = time.perf_counter() - started
        hit = sum(1 for i, v in linked.items() if v.of in partners.get(i, ()))
        found = sum(1 for i in partners if i in linked and linked[i].of in partners[i])
        made, same = translation_probe(args.data, stories, partners)
        rows += [
            (f"exhaustive: pairs compared ({took:.0f} s)", f"{compared:,}"),
            ("exhaustive: articles with an earlier version", f"{len(partners):,}"),
            ("vs exhaustive: link precision", ratio(hit, len(linked))),
            ("vs exhaustive: link recall", ratio(found, len(partners))),
            ("translations, simulated (no true ones): links / same story", f"{made} / {same}"),
        ]

    rows += labelled_rows({i: (v.relation, v.id) for i, v in verdicts.items()})

    if args.memory:
        heap, rebuild_s = memory_per_article(stories)
        rows += [
            ("in-process memory per indexed article, all in one window (bytes)", f"{heap:,.0f}"),
            (f"rebuild of the cache from state, {len(stories):,} articles (s)", f"{rebuild_s:.2f}"),
        ]

    if args.variants:
        for kind, got in variants(stories, args.variants).items():
            expected = EXPECTED[kind]
            linked_any = sum(n for relation, n in got.items() if relation in LINKS)
            total = sum(got.values())
            detail = ", ".join(f"{relation} {n}" for relation, n in got.most_common())
            if expected == "new":
                rows.append((f"variants: {kind}, kept apart", f"{ratio(got['new'], total)}  ({detail})"))
            else:
                rows.append(
                    (
                        f"variants: {kind}, linked / as {expected}",
                        f"{ratio(linked_any, total)} / {ratio(got[expected], total)}  ({detail})",
                    )
                )

    width = max(len(name) for name, _ in rows)
    print(f"{'dedup on Reuters-21578':<{width}}  value")
    print(f"{'-' * width}  {'-' * 12}")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
