"""The `newswire` command: run, worker, publish, tail, enrich, broker, stats, replay."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson

from streams.settings import Settings

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return args.handler(args) or 0
    except KeyboardInterrupt:
        return 130
    except (FileNotFoundError, RuntimeError, TimeoutError) as error:
        print(f"newswire: {error}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="newswire", description=__doc__)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("run", help="start a broker and a worker, enrich articles, print them, stop")
    run.add_argument("paths", nargs="*", help=f"files or folders (default: {SEEDS.name}/)")
    run.add_argument("--broker", help="use this cluster (kafka://host:port) instead of the embedded broker")
    run.add_argument("--json", action="store_true", help="print the raw events, one JSON object per line")
    run.add_argument("--timeout", type=float, default=180.0, help="give up after this many seconds")
    run.set_defaults(handler=_run)

    worker = commands.add_parser("worker", help="run the Faust worker (configured by NEWSWIRE_* variables)")
    worker.add_argument(
        "-l", "--loglevel", default="info", choices=["crit", "error", "warn", "info", "debug"]
    )
    worker.set_defaults(handler=_worker)

    publish = commands.add_parser(
        "publish", help="publish .txt, .json and .jsonl files, folders or - (stdin)"
    )
    publish.add_argument("paths", nargs="+")
    publish.add_argument("--broker", help="kafka://host:port (default: $NEWSWIRE_BROKER)")
    publish.set_defaults(handler=_publish)

    tail = commands.add_parser("tail", help="follow wire.enriched (or the dead-letter topic)")
    tail.add_argument("--deadletter", action="store_true", help="follow wire.deadletter instead")
    tail.add_argument("--json", action="store_true", help="print raw records")
    tail.add_argument("--new", action="store_true", help="only records that arrive from now on")
    tail.add_argument("--broker", help="kafka://host:port (default: $NEWSWIRE_BROKER)")
    tail.set_defaults(handler=_tail)

    enrich = commands.add_parser("enrich", help="enrich files in this process, no Kafka: JSON lines out")
    enrich.add_argument("paths", nargs="+", help="files, folders, or - for JSON lines on stdin")
    enrich.add_argument(
        "--ingest-time", help="ISO 8601 time standing for the broker timestamp (default: now)"
    )
    enrich.set_defaults(handler=_enrich)

    broker = commands.add_parser("broker", help="run a local broker in the foreground until Ctrl-C")
    broker.add_argument(
        "--kafka", action="store_true", help="Apache Kafka 4 (KRaft) instead of the embedded one"
    )
    broker.set_defaults(handler=_broker)

    stats = commands.add_parser("stats", help="show a running worker's figures (its /metrics) as a table")
    stats.add_argument(
        "--url", help="the worker's web address (default: http://127.0.0.1:$NEWSWIRE_WEB_PORT)"
    )
    stats.add_argument(
        "--watch", nargs="?", type=float, const=2.0, metavar="SECONDS", help="refresh every SECONDS (2)"
    )
    stats.add_argument(
        "--broker", nargs="?", const="", help="also the group's committed and end offsets from the broker"
    )
    stats.set_defaults(handler=_stats)

    replay = commands.add_parser(
        "replay",
        help="enrich the input topic again from its beginning into the output: the same events",
        description="Read the input topic from its earliest offset to its end at the start of the replay "
        "(no consumer group: the running worker is untouched), enrich each record as the worker does "
        "(ingest time = the record's timestamp) and decide story verdicts with a fresh index in the "
        "order the worker's index saw them (the stories topic). With the same code, every event and "
        "dead letter is byte-identical to the first run's, under the same key: consumers that drop "
        "repeats by key see nothing new. Exits when done.",
    )
    replay.add_argument("--broker", help="kafka://host:port (default: $NEWSWIRE_BROKER)")
    replay.add_argument("--output", help="write the events to this topic instead (e.g. to compare versions)")
    replay.add_argument("--deadletter", help="write the dead letters to this topic instead")
    replay.set_defaults(handler=_replay)
    return parser


def _settings(args: argparse.Namespace) -> Settings:
    broker = getattr(args, "broker", None)
    return Settings.from_env(broker=broker) if broker else Settings.from_env()


def _worker(args: argparse.Namespace) -> int:
    from streams.worker import run_worker

    run_worker(args.loglevel)
    return 0


def _enrich(args: argparse.Namespace) -> int:
    from streams import pipeline
    from streams.deadletter import Rejected
    from streams.dedup import StoryIndex
    from streams.files import read_records

    settings = Settings.from_env()
    ingested_at = datetime.fromisoformat(args.ingest_time) if args.ingest_time else datetime.now(UTC)
    if ingested_at.tzinfo is None:
        ingested_at = ingested_at.replace(tzinfo=UTC)
    index = StoryIndex({}, window_hours=settings.dedup_window_hours, translations=settings.dedup_translations)
    out = sys.stdout.buffer
    enriched = rejected = 0
    for number, raw in enumerate(read_records(args.paths), 1):
        try:
            _, pending = pipeline.annotate(raw, ingested_at, max_body_bytes=settings.max_body_bytes)
            _, event = pipeline.decide(pending, index)
        except Rejected as error:
            print(
                f"newswire: record {number} rejected ({error.error_class}): {error.reason}", file=sys.stderr
            )
            rejected += 1
            continue
        out.write(event + b"\n")
        enriched += 1
    out.flush()
    print(f"newswire: {enriched} enriched, {rejected} rejected", file=sys.stderr)
    return 0


def _publish(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from streams.files import count_records, read_records
    from streams.wire import publish

    settings = _settings(args)
    with tqdm(total=count_records(args.paths), unit="article", desc="publishing", file=sys.stderr) as bar:
        keys = asyncio.run(
            publish(
                settings.bootstrap,
                settings.input_topic,
                read_records(args.paths),
                on_sent=bar.update,
                client_options=settings.security,
            )
        )
    print(f"published {len(keys)} records to {settings.input_topic} on {settings.bootstrap}", file=sys.stderr)
    return 0


def _tail(args: argparse.Namespace) -> int:
    from streams.wire import follow

    settings = _settings(args)
    topic = settings.deadletter_topic if args.deadletter else settings.output_topic

    async def tail() -> None:
        async for record in follow(
            settings.bootstrap, [topic], from_beginning=not args.new, client_options=settings.security
        ):
            if args.json:
                print(record.value.decode(errors="replace"), flush=True)
            elif args.deadletter:
                print(summarise_dead_letter(orjson.loads(record.value)), flush=True)
            else:
                print(summarise(orjson.loads(record.value)), flush=True)

    asyncio.run(tail())
    return 0


def _stats(args: argparse.Namespace) -> int:
    from urllib.error import URLError

    from streams.metrics import fetch, group_offsets, group_table, summary

    settings = Settings.from_env(broker=args.broker) if args.broker else Settings.from_env()
    url = (args.url or (f"http://127.0.0.1:{settings.web_port}" if settings.web_port else "")).rstrip("/")
    if not url and args.broker is None:
        raise RuntimeError("no worker address: set NEWSWIRE_WEB_PORT (as for the worker) or pass --url")
    previous, taken = None, 0.0
    while True:
        lines = []
        if url:
            try:
                health, snap = fetch(url)
            except (URLError, OSError) as error:
                raise RuntimeError(f"cannot read {url}/metrics: {error}") from None
            now = time.monotonic()
            parts = ", ".join(f"{t} {p}" for t, p in (health.get("partitions") or {}).items())
            lines += [f"worker {url}: {health.get('status')}   {parts}", summary(snap, previous, now - taken)]
            previous, taken = snap, now
        if args.broker is not None:
            topics = [settings.input_topic, settings.stories_topic]
            offsets = asyncio.run(
                group_offsets(settings.bootstrap, settings.app_id, topics, settings.security)
            )
            lines += [
                f"group {settings.app_id} on {settings.bootstrap} (end offsets wrong on the embedded broker)"
            ]
            lines += [group_table(offsets)]
        if args.watch:
            print("\033[2J\033[H", end="")
        print("\n".join(lines), flush=True)
        if not args.watch:
            return 0
        time.sleep(args.watch)


def _replay(args: argparse.Namespace) -> int:
    from streams.replay import replay

    settings = _settings(args)
    report = asyncio.run(replay(settings, output_topic=args.output, deadletter_topic=args.deadletter))
    _say(
        f"replayed {report.inputs} records from {settings.input_topic} in {report.seconds:.1f} s: "
        f"{report.enriched} enriched ({report.ordered} in the stories order, {report.unordered} after), "
        f"{report.dead_lettered} dead-lettered"
    )
    return 0


def _broker(args: argparse.Namespace) -> int:
    from streams.brokers import start_broker

    broker = start_broker("kafka" if args.kafka else "embedded")
    print(f"{broker.url}   (export NEWSWIRE_BROKER={broker.url}; Ctrl-C stops it)", flush=True)
    try:
        while broker.running:
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        broker.stop()
    return 0


def _run(args: argparse.Namespace) -> int:
    from streams.files import read_records
    from streams.worker import WorkerProcess

    paths = args.paths or [str(SEEDS)]
    records = list(read_records(paths))
    if not records:
        raise RuntimeError(f"nothing to publish in {' '.join(paths)}")
    with contextlib.ExitStack() as stack:
        if args.broker:
            url = args.broker
        else:
            from streams.brokers import EmbeddedBroker

            broker = stack.enter_context(EmbeddedBroker())
            url = broker.url
            _say(f"embedded broker on {broker.bootstrap}")
        settings = Settings.from_env(broker=url)
        workdir = stack.enter_context(tempfile.TemporaryDirectory(prefix="newswire-run-"))
        env = {"NEWSWIRE_BROKER": url, "NEWSWIRE_DATA_DIR": workdir}
        worker = stack.enter_context(WorkerProcess(env, log_path=Path(workdir) / "worker.log"))
        _say("worker starting")
        try:
            return asyncio.run(_publish_and_collect(settings, records, worker, args))
        finally:
            _say("stopping")


async def _publish_and_collect(settings: Settings, records: list[bytes], worker, args) -> int:
    from streams.app import all_topics, topic_configs
    from streams.brokers import create_topics
    from streams.wire import follow, publish

    await create_topics(settings.bootstrap, all_topics(settings), topic_configs(settings))
    keys = await publish(settings.bootstrap, settings.input_topic, records, client_options=settings.security)
    _say(f"published {len(keys)} articles to {settings.input_topic}")
    waiting = set(keys)
    deadline = time.monotonic() + args.timeout

    async def collect() -> None:
        async for record in follow(
            settings.bootstrap,
            [settings.output_topic, settings.deadletter_topic],
            client_options=settings.security,
        ):
            key = record.key.decode() if record.key else ""
            if key not in waiting:
                continue  # an at-least-once repeat, or a record of an earlier run
            waiting.discard(key)
            value = orjson.loads(record.value)
            if args.json:
                print(record.value.decode(), flush=True)
            elif record.topic == settings.deadletter_topic:
                print(summarise_dead_letter(value), flush=True)
            else:
                print(summarise(value), flush=True)
            if not waiting:
                return

    task = asyncio.ensure_future(collect())
    while not task.done():
        if not worker.running():
            task.cancel()
            raise RuntimeError(f"the worker stopped unexpectedly:\n{worker.log_tail()}")
        if time.monotonic() > deadline:
            task.cancel()
            raise TimeoutError(
                f"{len(waiting)} of {len(keys)} articles not accounted for after {args.timeout:.0f} s"
            )
        await asyncio.sleep(0.2)
    await task
    _say(f"all {len(keys)} articles accounted for")
    return 0


def summarise(event: dict) -> str:
    """Return a short readable summary of an enriched event."""
    published = event.get("published") or {}
    story = event.get("story") or {}
    relation = story.get("relation", "?")
    if story.get("of"):
        relation += f" of {story['of'][:12]}"
    title = event.get("headline") or _first_words(event["body"])
    when = f"{published.get('value')}  ({published.get('origin')}, {published.get('granularity')})"
    lines = [
        f"● {event['id'][:12]}  [{event.get('language')}]  {title}",
        f"    published  {when}",
        f"    story      {relation}",
    ]
    if event.get("dateline") or event.get("source"):
        lines.append(f"    dateline   {event.get('dateline') or '-'}    source {event.get('source') or '-'}")
    if event.get("dates"):
        lines.append("    dates      " + ", ".join(f"{d['text']} → {d['value']}" for d in event["dates"][:8]))
    if event.get("places"):
        lines.append(
            "    places     "
            + ", ".join(f"{p['name']} ({p['country_code'] or '-'})" for p in event["places"][:8])
        )
    return "\n".join(lines)


def summarise_dead_letter(letter: dict) -> str:
    """Return a one-line summary of a dead-letter record."""
    where = f"{letter.get('topic')}[{letter.get('partition')}]@{letter.get('offset')}"
    return (
        f"✗ rejected at {letter.get('stage')}: {letter.get('error_class')}: {letter.get('reason')}  ({where})"
    )


def _first_words(text: str, width: int = 70) -> str:
    line = " ".join(text.split())
    return line if len(line) <= width else line[: width - 1] + "…"


def _say(message: str) -> None:
    print(f"newswire: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
