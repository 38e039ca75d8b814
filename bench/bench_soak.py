"""Soak: a steady stream of Reuters-21578 articles through one worker for N minutes.

Publishes at a fixed rate (default 175 articles/s: half the ~350/s measured end to end on the
embedded broker with every stage) and samples, every few seconds, the worker's RSS, its
`/metrics` (consumer lag, dedup index size) and the backlog counted by ids (published minus
accounted for on wire.enriched or wire.deadletter: the figure to trust on the embedded broker,
whose end offsets, and so lag, are wrong). Latency runs from the input record's broker timestamp
to the enriched event's arrival here. Prints the RSS slope (MB/hour), p50/p99 per window and the
final lag; saves a plot to bench/out/soak.png. The machine is shared: the load average is logged.

    python -m bench.bench_soak [--minutes 30] [--rate 175] [--broker embedded|kafka]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import orjson
from aiokafka import AIOKafkaProducer

from bench.bench_pipeline import _drain, reuters_records
from streams.app import all_topics, topic_configs
from streams.brokers import create_topics, start_broker
from streams.metrics import parse
from streams.settings import Settings
from streams.wire import follow, publish
from streams.worker import WorkerProcess

OUT = Path(__file__).resolve().parent / "out"


@dataclass
class Sample:
    """One look at the worker, `t` seconds into the run."""

    t: float
    rss_mb: float
    broker_rss_mb: float
    cpu_percent: float  # of one core, since the previous sample
    lag: float | None  # sum over partitions, from /metrics (unreliable on the embedded broker)
    backlog: int  # published minus accounted for, counted by id
    index_size: float | None
    load: float  # 1-minute load average of the machine


@dataclass
class Run:
    """What the soak measured."""

    began: float = 0.0
    published: int = 0
    sent: set[str] = field(default_factory=set)  # ids published by the run
    accounted: set[str] = field(default_factory=set)
    enriched: int = 0
    dead: int = 0
    repeats: int = 0  # records delivered twice (at least once): counted, not a loss
    latencies: list[tuple[float, float]] = field(default_factory=list)  # (t, seconds)
    samples: list[Sample] = field(default_factory=list)
    probe_rate: float | None = None  # articles/s a backlog drained at before the run (--rate 0)
    worker_peak_mb: float = float("nan")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _status(pid: int, key: str) -> float:
    """Return a /proc/<pid>/status memory figure (VmRSS, VmHWM) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _scrape(url: str) -> str | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.read().decode()
    except OSError:
        return None


def article_stream(base: list[dict]):
    """Yield JSON records forever: the Reuters stories in turn, each round under new ids and a year
    later (1987 + round), so that publication time moves on as in a live feed and the dedup window
    holds what it would hold there, not every round's copy of the same 72 hours."""
    n = 0
    while True:
        story = base[n % len(base)]
        round_ = n // len(base)
        if round_:
            published = story.get("published")
            if published:
                published = published.replace("1987", str(1987 + round_), 1)
            story = {**story, "id": f"{story['id']}-s{round_}", "published": published}
        yield orjson.dumps(story)
        n += 1


async def publish_paced(settings: Settings, run: Run, rate: float, seconds: float, base: list[dict]) -> None:
    """Publish at `rate` records per second for `seconds`, in ticks of 50 ms."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.bootstrap, linger_ms=5, **settings.security)
    await producer.start()
    records = article_stream(base)
    tick = 0.05
    try:
        loop = asyncio.get_running_loop()
        start = loop.time()
        while (elapsed := loop.time() - start) < seconds:
            due = int(elapsed * rate) + 1 - run.published  # catch up after a slow tick
            for _ in range(max(0, due)):
                raw = next(records)
                key = orjson.loads(raw)["id"]
                run.sent.add(key)
                await producer.send(settings.input_topic, raw, key=key.encode())
                run.published += 1
            await asyncio.sleep(tick)
        await producer.flush()
    finally:
        await producer.stop()


async def collect(settings: Settings, run: Run) -> None:
    """Count what comes out, forever; note the latency of each enriched event."""
    async for record in follow(
        settings.bootstrap,
        [settings.output_topic, settings.deadletter_topic],
        from_beginning=False,
        client_options=settings.security,
    ):
        now = time.time()
        key = record.key.decode() if record.key else ""
        if key not in run.sent:
            continue  # the probe's, or the warm-up's (the embedded broker's end offsets are wrong)
        if key in run.accounted:
            run.repeats += 1
            continue
        run.accounted.add(key)
        if record.topic == settings.output_topic:
            run.enriched += 1
            enriched_at = orjson.loads(record.value)["pipeline"]["enriched_at"]
            run.latencies.append((now - run.began, now - datetime.fromisoformat(enriched_at).timestamp()))
        else:
            run.dead += 1


async def sample(run: Run, worker: WorkerProcess, broker_pid: int | None, url: str, every: float) -> None:
    """Sample the worker every `every` seconds, forever."""
    pid = worker.process.pid
    last_cpu, last_t = _cpu_seconds(pid), time.time()
    while True:
        await asyncio.sleep(every)
        now = time.time()
        cpu = _cpu_seconds(pid)
        text = await asyncio.to_thread(_scrape, url)
        snap = parse(text) if text else None
        run.samples.append(
            Sample(
                t=now - run.began,
                rss_mb=_status(pid, "VmRSS"),
                broker_rss_mb=_status(broker_pid, "VmRSS") if broker_pid else float("nan"),
                cpu_percent=100 * (cpu - last_cpu) / (now - last_t),
                lag=sum(snap.lag.values()) if snap and snap.lag else None,
                backlog=run.published - len(run.accounted),
                index_size=snap.index_size if snap else None,
                load=os.getloadavg()[0],
            )
        )
        last_cpu, last_t = cpu, now


async def soak(args: argparse.Namespace) -> Run:
    """Return the figures of one soak run on a fresh broker and worker."""
    broker = start_broker(args.broker)
    run = Run()
    try:
        with tempfile.TemporaryDirectory() as workdir:
            settings = Settings(broker=broker.url, app_id=f"soak-{args.broker}")
            await create_topics(settings.bootstrap, all_topics(settings), topic_configs(settings))
            port = _free_port()
            env = {
                "NEWSWIRE_BROKER": broker.url,
                "NEWSWIRE_APP_ID": settings.app_id,
                "NEWSWIRE_DATA_DIR": workdir,
                "NEWSWIRE_WEB_PORT": str(port),
            }
            worker = WorkerProcess(env, log_level="warn", log_path=Path(workdir) / "worker.log").start()
            url = f"http://127.0.0.1:{port}/metrics"
            try:
                await _wait_healthy(f"http://127.0.0.1:{port}/health", worker)
                base = [orjson.loads(r) for r in reuters_records(args.distinct)]
                if args.rate <= 0:
                    run.probe_rate = await probe(settings, base[: args.probe])
                    args.rate = round(run.probe_rate / 2)
                    _say(f"probe: {run.probe_rate:.0f} articles/s drained; soaking at half")
                run.began = time.time()
                collector = asyncio.ensure_future(collect(settings, run))
                await asyncio.sleep(1.0)  # let the collector reach the end of the topics
                sampler = asyncio.ensure_future(
                    sample(run, worker, getattr(broker, "pid", None), url, args.sample)
                )
                _say(f"publishing {args.rate:g}/s for {args.minutes:g} min on the {args.broker} broker")
                progress = asyncio.ensure_future(_progress(run))
                await publish_paced(settings, run, args.rate, args.minutes * 60, base)
                _say(f"published {run.published:,}; draining")
                deadline = time.time() + args.drain
                while len(run.accounted) < run.published and time.time() < deadline:
                    if not worker.running():
                        raise RuntimeError(f"worker died:\n{worker.log_tail()}")
                    await asyncio.sleep(1.0)
                run_end = time.time() - run.began
                await asyncio.sleep(args.sample + 0.5)  # one last sample after the drain
                for task in (collector, sampler, progress):
                    task.cancel()
                run.worker_peak_mb = _status(worker.process.pid, "VmHWM")
                _say(f"drained {run_end / 60:.1f} min after the start")
            finally:
                worker.stop()
    finally:
        broker.stop()
    return run


async def probe(settings: Settings, stories: list[dict]) -> float:
    """Return the worker's throughput now (articles/s), draining a backlog of `stories` under new ids."""
    records = [orjson.dumps({**story, "id": f"probe-{story['id']}"}) for story in stories]
    began = time.time()
    keys = await publish(settings.bootstrap, settings.input_topic, records)
    drained = await _drain(settings, set(keys), timeout=900)
    return len(keys) / (drained["last"] - began)


async def _wait_healthy(url: str, worker: WorkerProcess, timeout: float = 300.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if not worker.running():
            raise RuntimeError(f"worker exited:\n{worker.log_tail()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        await asyncio.sleep(0.5)
    raise TimeoutError(f"worker not healthy after {timeout:.0f} s:\n{worker.log_tail()}")


async def _progress(run: Run) -> None:
    while True:
        await asyncio.sleep(60)
        last = run.samples[-1] if run.samples else None
        recent = [s for t, s in run.latencies if t > time.time() - run.began - 60]
        p99 = 1000 * _p99(recent) if recent else float("nan")
        _say(
            f"{(time.time() - run.began) / 60:5.1f} min: published {run.published:,}, "
            f"accounted {len(run.accounted):,}, p99(last min) {p99:,.0f} ms, "
            f"RSS {last.rss_mb if last else float('nan'):.0f} MB, load {os.getloadavg()[0]:.1f}"
        )


def _p99(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[98]


def rss_slope(samples: list[Sample], after: float = 0.0) -> float:
    """Return the least-squares slope of worker RSS in MB per hour over samples after `after` seconds."""
    points = [(s.t, s.rss_mb) for s in samples if s.t >= after]
    if len(points) < 3:
        return float("nan")
    t, rss = np.array(points).T
    return float(np.polyfit(t / 3600.0, rss, 1)[0])


def windows(run: Run, width: float) -> list[dict]:
    """Return per-window figures: latency p50/p99/max, arrivals, RSS, lag and backlog at its end."""
    end = max([t for t, _ in run.latencies] + [s.t for s in run.samples] + [0.0])
    rows = []
    start = 0.0
    while start < end:
        stop = start + width
        lat = [s for t, s in run.latencies if start <= t < stop]
        inside = [s for s in run.samples if start <= s.t < stop]
        last = inside[-1] if inside else None
        rows.append(
            {
                "start": start,
                "received": len(lat),
                "p50": statistics.median(lat) if lat else float("nan"),
                "p99": _p99(lat) if lat else float("nan"),
                "max": max(lat) if lat else float("nan"),
                "rss": last.rss_mb if last else float("nan"),
                "lag": last.lag if last and last.lag is not None else float("nan"),
                "backlog": last.backlog if last else float("nan"),
                "load": statistics.mean(s.load for s in inside) if inside else float("nan"),
                "cpu": statistics.mean(s.cpu_percent for s in inside) if inside else float("nan"),
            }
        )
        start = stop
    return rows


def report(run: Run, args: argparse.Namespace) -> str:
    """Return the printed figures of a run."""
    nan = float("nan")
    lines = [
        f"soak: {args.minutes:g} min at {args.rate:g} articles/s on the {args.broker} broker "
        f"(2 cores shared with other work: see the load column)",
        f"{'window':>8} {'recv':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} {'RSS MB':>7} "
        f"{'cpu %':>6} {'lag':>7} {'backlog':>8} {'load':>5}",
    ]
    for row in windows(run, args.window):
        ms = {k: 1000 * row[k] for k in ("p50", "p99", "max")}
        lines.append(
            f"{row['start'] / 60:6.1f}m {row['received']:>6} {ms['p50']:>8,.0f} {ms['p99']:>8,.0f} "
            f"{ms['max']:>8,.0f} {row['rss']:>7.0f} {row['cpu']:>6.0f} {row['lag']:>7.0f} "
            f"{row['backlog']:>8.0f} {row['load']:>5.1f}"
        )
    duration = args.minutes * 60
    warm = min(300.0, duration / 3)
    lat = [s for _, s in run.latencies] or [nan]
    first = run.samples[0] if run.samples else Sample(0, nan, nan, nan, None, 0, None, nan)
    last = run.samples[-1] if run.samples else first
    missing = run.published - len(run.accounted)
    lag = last.lag if last.lag is not None else nan
    index = last.index_size if last.index_size is not None else nan
    load = statistics.mean(s.load for s in run.samples) if run.samples else nan
    lines += [
        "",
        f"probe             {run.probe_rate:,.0f} articles/s drained just before (the rate is half)"
        if run.probe_rate
        else f"rate              {args.rate:g}/s as given",
        f"published         {run.published:,} ({run.published / duration:,.1f}/s)",
        f"accounted for     {len(run.accounted):,}: enriched {run.enriched:,}, dead-lettered {run.dead:,}; "
        f"missing {missing:,}; delivered twice {run.repeats:,}",
        f"latency overall   p50 {1000 * statistics.median(lat):,.0f} ms, p99 {1000 * _p99(lat):,.0f} ms, "
        f"max {1000 * max(lat):,.0f} ms (input broker timestamp to arrival here)",
        f"worker RSS        start {first.rss_mb:.0f} MB, end {last.rss_mb:.0f} MB, "
        f"peak {run.worker_peak_mb:.0f} MB",
        f"RSS slope         {rss_slope(run.samples):+.1f} MB/hour over the run, "
        f"{rss_slope(run.samples, after=warm):+.1f} MB/hour after the first {warm / 60:.0f} min",
        f"broker RSS        end {last.broker_rss_mb:.0f} MB (in-memory storage keeps every record)",
        f"final lag         {lag:.0f} (/metrics; unreliable on the embedded broker); "
        f"backlog by count {last.backlog:,}",
        f"dedup index       {index:,.0f} articles at the end",
        f"machine load      mean {load:.1f} (1-minute load average)",
    ]
    return "\n".join(lines)


def plot(run: Run, args: argparse.Namespace, path: Path) -> None:
    """Save RSS, latency per window, lag and backlog over time as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = windows(run, args.window)
    minutes = [s.t / 60 for s in run.samples]
    fig, axes = plt.subplots(4, 1, figsize=(10, 11), sharex=True)
    axes[0].plot(minutes, [s.rss_mb for s in run.samples], label="worker RSS")
    axes[0].set_ylabel("MB")
    slope = rss_slope(run.samples, after=min(300.0, args.minutes * 20))
    axes[0].set_title(
        f"newswire soak: {args.rate:g} articles/s for {args.minutes:g} min, {args.broker} broker "
        f"(RSS slope after warm-up {slope:+.1f} MB/h)"
    )
    axes[0].legend(loc="lower right")
    mid = [(r["start"] + args.window / 2) / 60 for r in rows]
    axes[1].plot(mid, [1000 * r["p99"] for r in rows], marker=".", label="p99")
    axes[1].plot(mid, [1000 * r["p50"] for r in rows], marker=".", label="p50")
    axes[1].set_ylabel(f"latency ms ({args.window:g} s windows)")
    axes[1].set_yscale("log")
    axes[1].legend(loc="upper right")
    axes[2].plot(minutes, [s.backlog for s in run.samples], label="backlog (published - accounted, by id)")
    axes[2].plot(
        minutes,
        [s.lag if s.lag is not None else float("nan") for s in run.samples],
        label="consumer lag (/metrics; unreliable on tansu)",
        alpha=0.7,
    )
    axes[2].set_ylabel("records")
    axes[2].legend(loc="upper right")
    axes[3].plot(minutes, [s.cpu_percent for s in run.samples], label="worker CPU % of one core")
    axes[3].plot(minutes, [100 * s.load for s in run.samples], label="machine load average x 100", alpha=0.7)
    axes[3].set_ylabel("%")
    axes[3].set_xlabel("minutes")
    axes[3].legend(loc="upper right")
    for ax in axes:
        ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    parser.add_argument(
        "--rate",
        type=float,
        default=175.0,
        help="articles/s (default: half the ~350/s measured maximum); 0: half of what a probe drains now",
    )
    parser.add_argument("--probe", type=int, default=3000, help="articles in the probe (--rate 0)")
    parser.add_argument("--broker", choices=["embedded", "kafka"], default="embedded")
    parser.add_argument("--window", type=float, default=30.0, help="latency window, seconds")
    parser.add_argument("--sample", type=float, default=5.0, help="seconds between samples")
    parser.add_argument(
        "--drain", type=float, default=300.0, help="seconds to wait for the backlog at the end"
    )
    parser.add_argument(
        "--distinct", type=int, default=20000, help="distinct Reuters stories before repeating"
    )
    parser.add_argument("--out", type=Path, default=OUT / "soak.png")
    args = parser.parse_args(argv)
    run = asyncio.run(soak(args))
    print(report(run, args), flush=True)
    plot(run, args, args.out)
    print(f"plot: {args.out}")
    return 0


def _say(message: str) -> None:
    print(f"soak: {message}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
