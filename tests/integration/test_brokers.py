"""Smoke tests of both brokers: topics, produce and consume, restart, and failure messages."""

from __future__ import annotations

import asyncio
import os
import stat
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from streams.brokers import (
    ApacheKafka,
    Broker,
    BrokerError,
    EmbeddedBroker,
    create_topics,
    port_accepts,
    start_broker,
)

pytestmark = pytest.mark.integration


async def _describe(bootstrap: str, topics: list[str]) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return {t["topic"]: len(t["partitions"]) for t in described if t["error_code"] == 0}


async def _produce(bootstrap: str, topic: str, count: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5)
    await producer.start()
    try:
        sent = [
            await producer.send(
                topic,
                value=f"value-{i}".encode(),
                key=f"key-{i % 7}".encode(),
                headers=[("seq", str(i).encode()), ("origin", b"test")],
            )
            for i in range(count)
        ]
        await asyncio.gather(*sent)
    finally:
        await producer.stop()


async def _consume_all(
    bootstrap: str, topic: str, partitions: int, expected: int, timeout: float = 30.0
) -> list:
    """Return every record of `topic` read with assign() from the beginning, stopping at `expected`.

    Counts records rather than comparing with end offsets, which tansu reports wrongly.
    """
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    records: list = []
    try:
        assigned = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        deadline = time.monotonic() + timeout
        while len(records) < expected and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            for batch in batches.values():
                records.extend(batch)
        # One more short poll: a duplicate or stray record would show here.
        for batch in (await consumer.getmany(timeout_ms=200)).values():
            records.extend(batch)
    finally:
        await consumer.stop()
    return records


async def test_create_topics_with_partitions(broker: Broker, topic_prefix: str) -> None:
    wanted = {f"{topic_prefix}four": 4, f"{topic_prefix}one": 1, f"{topic_prefix}compact": 1}
    config = {f"{topic_prefix}compact": {"cleanup.policy": "compact"}}

    assert await create_topics(broker.bootstrap, wanted, config) == wanted
    assert await _describe(broker.bootstrap, list(wanted)) == wanted
    # Again: "already exists" is fine and changes nothing.
    assert await create_topics(broker.url, {f"{topic_prefix}four": 2}) == {f"{topic_prefix}four": 4}

    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_configs(
            # All configs: tansu 0.6 drops the connection when asked for named configs only
            # (KafkaProtocol(StringWithoutLength) in its log).
            [ConfigResource(ConfigResourceType.TOPIC, f"{topic_prefix}compact")]
        )
    finally:
        await admin.close()
    values = {entry[0]: entry[1] for resource in response.resources for entry in resource[4]}
    assert values["cleanup.policy"] == "compact"


async def test_produce_and_consume_back(broker: Broker, topic_prefix: str) -> None:
    topic = f"{topic_prefix}records"
    await create_topics(broker.bootstrap, {topic: 4})

    await _produce(broker.bootstrap, topic, 100)
    records = await _consume_all(broker.bootstrap, topic, 4, 100)

    assert len(records) == 100
    assert sorted(r.value for r in records) == sorted(f"value-{i}".encode() for i in range(100))
    for record in records:
        seq = int(dict(record.headers)["seq"])
        assert record.value == f"value-{seq}".encode()
        assert record.key == f"key-{seq % 7}".encode()
        assert dict(record.headers)["origin"] == b"test"
    # One key, one partition, in the order sent.
    by_key: dict[bytes, list[tuple[int, int]]] = {}
    for record in records:
        by_key.setdefault(record.key, []).append((record.partition, int(dict(record.headers)["seq"])))
    assert len(by_key) == 7
    for entries in by_key.values():
        assert len({partition for partition, _ in entries}) == 1
        seqs = [seq for _, seq in entries]
        assert seqs == sorted(seqs)
    assert len({r.partition for r in records}) > 1


async def test_kafka_restart_keeps_data_ports_and_offsets(tmp_path: Path, broker_kinds: list[str]) -> None:
    if "kafka" not in broker_kinds:
        pytest.skip("kafka not selected")
    topic, group = "restart.records", "restart-group"
    kafka = ApacheKafka(data_dir=tmp_path / "kafka")
    with kafka:
        port = kafka.port
        await create_topics(kafka.bootstrap, {topic: 2})
        await _produce(kafka.bootstrap, topic, 20)
        consumer = AIOKafkaConsumer(
            topic,
            bootstrap_servers=kafka.bootstrap,
            group_id=group,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            session_timeout_ms=int(kafka.session_timeout * 1000),
            heartbeat_interval_ms=500,
        )
        await consumer.start()
        try:
            seen = 0
            deadline = time.monotonic() + 30
            while seen < 20 and time.monotonic() < deadline:
                seen += sum(len(b) for b in (await consumer.getmany(timeout_ms=200)).values())
            await consumer.commit()
        finally:
            await consumer.stop()
        assert seen == 20

        kafka.restart()
        print(f"\nkafka restart on existing data: start {kafka.startup_seconds:.2f} s")
        assert kafka.port == port
        assert len(await _consume_all(kafka.bootstrap, topic, 2, 20)) == 20
        committed = await _committed(kafka.bootstrap, group, topic)
        assert sum(committed.values()) == 20
    assert not port_accepts(port)
    assert (tmp_path / "kafka" / "kraft" / "meta.properties").is_file()  # persistent: kept

    # A new broker object on the same directory finds the same ports and data.
    with ApacheKafka(data_dir=tmp_path / "kafka") as again:
        assert again.port == port
        assert len(await _consume_all(again.bootstrap, topic, 2, 20)) == 20


async def _committed(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        return {p: await consumer.committed(TopicPartition(topic, p)) or 0 for p in (0, 1)}
    finally:
        await consumer.stop()


@pytest.mark.parametrize("kind", ["embedded", "kafka"])
def test_start_stop_times_and_cleanup(kind: str, broker_kinds: list[str]) -> None:
    if kind not in broker_kinds:
        pytest.skip(f"{kind} not selected")
    broker = start_broker(kind)
    workdir, port, pid = broker.workdir, broker.port, broker.pid
    assert broker.bootstrap == f"127.0.0.1:{port}"
    assert broker.url == f"kafka://127.0.0.1:{port}"
    assert broker.running and port_accepts(port)
    broker.stop()
    print(f"\n{kind}: start {broker.startup_seconds:.2f} s, stop {broker.stop_seconds:.2f} s")
    assert not broker.running
    assert not port_accepts(port)
    assert workdir is not None and not workdir.exists()  # temporary data deleted
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def _script(path: Path, body: str) -> str:
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return str(path)


def test_early_exit_reports_the_log_tail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALF_TANSU_BIN", _script(tmp_path / "tansu", "echo 'boom: bad flag'; exit 3"))
    with pytest.raises(BrokerError, match=r"(?s)exited with code 3.*boom: bad flag"):
        EmbeddedBroker().start()


def test_ready_timeout_kills_the_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pidfile = tmp_path / "pid"
    monkeypatch.setenv("CALF_TANSU_BIN", _script(tmp_path / "tansu", f"echo $$ > {pidfile}; exec sleep 60"))
    with pytest.raises(BrokerError, match="not ready"):
        EmbeddedBroker(ready_timeout=0.5).start()
    with pytest.raises(ProcessLookupError):
        os.kill(int(pidfile.read_text()), 0)


def test_missing_tools_give_clear_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CALF_TANSU_BIN", str(tmp_path / "nowhere"))
    with pytest.raises(BrokerError, match="CALF_TANSU_BIN"):
        EmbeddedBroker().start()
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BrokerError, match="needs `java`"):
        ApacheKafka().start()
    with pytest.raises(BrokerError, match="unknown broker kind"):
        start_broker("redpanda")
