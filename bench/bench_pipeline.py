"""End-to-end benchmark: Reuters-21578 articles through a real broker and worker.

Prints, for each broker: throughput (a backlog of N articles drained by one worker), latency
(p50/p99 from publish to enriched, publishing at half the measured throughput), the worker's
peak RSS; then the CPU time per article of each stage, in this process.

    python -m bench.bench_pipeline [--articles 20000] [--brokers embedded,kafka] [--workers 1,2]
                                   [--stages real,spine,free]

--stages picks the workers' stages, each a row: `real` (the product), `spine` (the pipeline
issue's minimal stages: publication time, exact-text duplicates, no places; bench/spine_stages.py)
and `free` (stages that cost next to nothing, bench/free_stages.py: what Faust and the broker alone
allow, the ceiling the stages' CPU is taken from).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

from streams import dates, dedup, ingest, pipeline, places
from streams.app import all_topics, topic_configs
from streams.brokers import create_topics, start_broker
from streams.settings import Settings
from streams.wire import follow, publish
from streams.worker import WorkerProcess

REUTERS = Path(__file__).resolve().parents[2] / "shared" / "bench-data" / "reuters21578"
_STORY = re.compile(r"<REUTERS[^>]*NEWID=\"(\d+)\">(.*?)</REUTERS>", re.S)


def _tag(name: str, text: str) -> str | None:
    found = re.search(rf"<{name}>(.*?)</{name}>", text, re.S)
    if not found:
        return None
    value = found.group(1).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return value.replace("&#3;", "").strip()


def reuters_records(count: int) -> list[bytes]:
    """Return `count` JSON records of Reuters stories with a body, cycling with new ids if needed."""
    stories = []
    for path in sorted(REUTERS.glob("reut2-*.xml")):
        for newid, text in _STORY.findall(path.read_text(encoding="latin-1")):
            body = _tag("BODY", text)
            if body:
                stories.append(
                    {
                        "id": f"reuters-{newid}",
                        "body": body,
                        "headline": _tag("TITLE", text),
                        "published": _tag("DATE", text),
                        "dateline": _tag("DATELINE", text),
                        "source": "Reuters",
                        "language": "en",
                    }
                )
    records = []
    for n in range(count):
        story = dict(stories[n % len(stories)])
        if n >= len(stories):
            story["id"] += f"-r{n // len(stories)}"
        records.append(orjson.dumps(story))
    return records


def rss_peak_mb(pid: int) -> float:
    """Return a process's peak resident memory in MB (VmHWM)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def _drain(settings: Settings, keys: set[str], timeout: float) -> dict[str, float]:
    """Return receive time by key for every key in `keys` on the output or dead-letter topic."""
    arrived: dict[str, float] = {}
    lags: dict[str, float] = {}

    async def gather() -> None:
        async for record in follow(settings.bootstrap, [settings.output_topic, settings.deadletter_topic]):
            now = time.time()
            key = record.key.decode() if record.key else ""
            if key in keys and key not in arrived:
                arrived[key] = now
                if record.topic == settings.output_topic:
                    enriched_at = orjson.loads(record.value)["pipeline"]["enriched_at"]
                    lags[key] = now - datetime.fromisoformat(enriched_at).timestamp()
                if len(arrived) == len(keys):
                    return

    await asyncio.wait_for(gather(), timeout)
    return {"last": max(arrived.values()), **{f"lag:{k}": v for k, v in lags.items()}}


async def run_broker(
    kind: str, records: list[bytes], latency_count: int, workers: int = 1, module: str = "streams.cli"
) -> dict[str, float]:
    """Return throughput, latency and RSS figures for one broker kind and `workers` worker processes
    (run as `python -m <module> worker`)."""
    broker = start_broker(kind)
    try:
        with tempfile.TemporaryDirectory() as workdir:
            settings = Settings(broker=broker.url, app_id=f"bench-{kind}")
            await create_topics(settings.bootstrap, all_topics(settings), topic_configs(settings))
            env = {
                "NEWSWIRE_BROKER": broker.url,
                "NEWSWIRE_APP_ID": settings.app_id,
                "NEWSWIRE_DATA_DIR": workdir,
            }
            group = [
                WorkerProcess(
                    {**env, "NEWSWIRE_DATA_DIR": f"{workdir}/w{n}"},
                    log_level="warn",
                    log_path=Path(workdir) / f"w{n}.log",
                    module=module,
                ).start()
                for n in range(workers)
            ]
            try:
                await _wait_ready(settings)
                await asyncio.sleep(
                    3 * settings.session_timeout if workers > 1 else 0
                )  # let the group settle
                began = time.time()
                keys = await publish(settings.bootstrap, settings.input_topic, records)
                published = time.time()
                drained = await _drain(settings, set(keys), timeout=1800)
                throughput = len(keys) / (drained["last"] - began)
                # Latency at half the measured throughput: no backlog, so it shows the pipeline's own delay.
                paced = [
                    orjson.dumps(dict(orjson.loads(r), id=f"paced-{i}"))
                    for i, r in enumerate(records[:latency_count])
                ]
                lags = await _paced(settings, paced, rate=throughput / 2)
                rss = max(rss_peak_mb(worker.process.pid) for worker in group)
            finally:
                for worker in group:
                    worker.stop()
    finally:
        broker.stop()
    return {
        "throughput": throughput,
        "publish_rate": len(keys) / (published - began),
        "p50_ms": 1000 * statistics.median(lags),
        "p99_ms": 1000 * statistics.quantiles(lags, n=100)[98],
        "rss_mb": rss,
    }


async def _wait_ready(settings: Settings) -> None:
    """Wait until one warm-up article has gone all the way through."""
    keys = await publish(settings.bootstrap, settings.input_topic, [b'{"id": "warm-up", "body": "Warm up."}'])
    await _drain(settings, set(keys), timeout=180)


async def _paced(settings: Settings, records: list[bytes], rate: float) -> list[float]:
    """Publish `records` at `rate` per second; return each one's publish-to-enriched latency in seconds."""
    keys = {orjson.loads(r)["id"] for r in records}
    drain = asyncio.ensure_future(_drain(settings, keys, timeout=900))
    batch = max(1, int(rate / 20))
    for start in range(0, len(records), batch):
        tick = time.monotonic()
        await publish(settings.bootstrap, settings.input_topic, records[start : start + batch])
        await asyncio.sleep(max(0.0, batch / rate - (time.monotonic() - tick)))
    drained = await drain
    return [value for key, value in drained.items() if key.startswith("lag:")]


def stage_costs(records: list[bytes]) -> dict[str, float]:
    """Return the median CPU microseconds per article of each stage, run in this process."""
    timings: dict[str, list[float]] = {}
    index = dedup.StoryIndex({})
    now = datetime.now(UTC)

    def timed(name, function, *args):
        began = time.process_time_ns()
        result = function(*args)
        timings.setdefault(name, []).append((time.process_time_ns() - began) / 1000)
        return result

    pipeline.annotate(records[0], now)  # load the gazetteer and the language data first
    for raw in records:
        article = timed("ingest", ingest.parse_article, raw)
        published = timed("dates: publication", dates.publication_time, article, now)
        found = timed("dates: expressions", dates.find_dates, article, published)
        named, _ = timed("places", places.resolve_places, article)
        fp = timed(
            "dedup: fingerprint",
            dedup.fingerprint,
            article,
            published.value,
            [p.geonameid for p in named],
            [d.value for d in found],
        )
        timed("dedup: index", index.check, fp)
        timed("whole annotate", pipeline.annotate, raw, now)
    return {name: statistics.mean(values) for name, values in timings.items()}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=20_000)
    parser.add_argument("--latency-articles", type=int, default=3_000)
    parser.add_argument("--brokers", default="embedded,kafka")
    parser.add_argument("--stage-articles", type=int, default=2_000)
    parser.add_argument("--workers", default="1", help="worker processes, e.g. 1,2 for both")
    parser.add_argument(
        "--stages",
        default="real",
        help="workers' stages, a row each: real (the product), spine (the pipeline issue's minimal "
        "stages), free (next to nothing: the ceiling); e.g. real,spine,free",
    )
    args = parser.parse_args()
    if not REUTERS.exists():
        print(f"Reuters-21578 not found at {REUTERS}", file=sys.stderr)
        return 1
    records = reuters_records(args.articles)
    words = statistics.mean(len(orjson.loads(r)["body"].split()) for r in records[:2000])
    print(f"{len(records):,} Reuters-21578 articles (mean {words:.0f} words)\n")
    print("| broker | workers | stages | articles/s | publish/s | p50 ms | p99 ms | worker RSS MB |")
    print("|---|---:|---|---:|---:|---:|---:|---:|")
    known = {"real": "streams.cli", "spine": "bench.spine_stages", "free": "bench.free_stages"}
    modules = {name: known[name] for name in args.stages.split(",")}
    for kind in args.brokers.split(","):
        for workers in map(int, args.workers.split(",")):
            for stages, module in modules.items():
                figures = asyncio.run(run_broker(kind, records, args.latency_articles, workers, module))
                print(
                    f"| {kind} | {workers} | {stages} | {figures['throughput']:,.0f} | "
                    f"{figures['publish_rate']:,.0f} | {figures['p50_ms']:.1f} | {figures['p99_ms']:.1f} | "
                    f"{figures['rss_mb']:.0f} |",
                    flush=True,
                )
    print("\n| stage | CPU µs/article (mean) |")
    print("|---|---:|")
    for name, micros in stage_costs(records[: args.stage_articles]).items():
        print(f"| {name} | {micros:,.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
