"""Static checks of docker-compose.yml, its Dockerfile and topic script (no Docker engine here)."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from streams.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def _env(service: str) -> dict[str, str]:
    env = SERVICES[service].get("environment", {})
    assert isinstance(env, dict), f"{service}: environment as a mapping"
    return {key: str(value) for key, value in env.items()}


def _listeners(value: str) -> dict[str, tuple[str, int]]:
    """Return name -> (host, port) from a Kafka listener list like PLAINTEXT://kafka:9092,..."""
    found = {}
    for item in value.split(","):
        match = re.fullmatch(r"([A-Z_]+)://([^:]*):(\d+)", item.strip())
        assert match, f"listener {item!r}"
        found[match.group(1)] = (match.group(2), int(match.group(3)))
    return found


def _published(service: str) -> list[tuple[str, int, int]]:
    """Return (host ip, host port, container port) for each published port of `service`."""
    ports = []
    for entry in SERVICES[service].get("ports", []):
        match = re.fullmatch(r"([\d.]+):(\d+):(\d+)", str(entry))
        assert match, f"{service}: port {entry!r} must name the host address"
        ports.append((match.group(1), int(match.group(2)), int(match.group(3))))
    return ports


def _depends(service: str) -> dict[str, str]:
    depends = SERVICES[service].get("depends_on", {})
    assert isinstance(depends, dict), f"{service}: depends_on with conditions"
    return {name: spec["condition"] for name, spec in depends.items()}


def test_services_present() -> None:
    assert {"kafka", "topics", "worker", "kafka-ui"} <= set(SERVICES)
    assert not any(
        "zookeeper" in name or "zookeeper" in str(s.get("image", "")) for name, s in SERVICES.items()
    )


def test_kafka_is_a_single_kraft_node() -> None:
    kafka = SERVICES["kafka"]
    assert kafka["image"].startswith("apache/kafka:")
    env = _env("kafka")
    assert set(env["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    node_id = env["KAFKA_NODE_ID"]
    listeners = _listeners(env["KAFKA_LISTENERS"])
    advertised = _listeners(env["KAFKA_ADVERTISED_LISTENERS"])
    protocols = dict(item.split(":") for item in env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"]

    voter = re.fullmatch(r"(\d+)@([\w.-]+):(\d+)", env["KAFKA_CONTROLLER_QUORUM_VOTERS"])
    assert voter and voter.group(1) == node_id and voter.group(2) == "kafka"
    assert int(voter.group(3)) == listeners[controller][1]
    assert controller not in advertised
    assert env["KAFKA_INTER_BROKER_LISTENER_NAME"] in advertised
    assert set(listeners) <= set(protocols) and set(advertised) <= set(listeners)
    for key in (
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
    ):
        assert env[key] == "1", key
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", env["CLUSTER_ID"])  # Kafka's base64 UUID form


def test_kafka_listeners_serve_the_network_and_the_host() -> None:
    env = _env("kafka")
    listeners = _listeners(env["KAFKA_LISTENERS"])
    advertised = _listeners(env["KAFKA_ADVERTISED_LISTENERS"])
    worker_bootstrap = _env("worker")["NEWSWIRE_BROKER"].removeprefix("kafka://")
    host, port = worker_bootstrap.split(":")

    # Inside the compose network: the worker's address is advertised, and the container listens there.
    inside = [name for name, address in advertised.items() if address == (host, int(port))]
    assert inside and listeners[inside[0]][1] == int(port)
    # From the host: a listener advertised on 127.0.0.1 at the published host port.
    published = {host_port: container for _, host_port, container in _published("kafka")}
    outside = [(name, p) for name, (h, p) in advertised.items() if h == "127.0.0.1"]
    assert len(outside) == 1
    name, host_port = outside[0]
    assert published[host_port] == listeners[name][1]
    assert f"kafka://127.0.0.1:{host_port}" == Settings().broker  # the CLI default reaches it


def test_published_ports_are_local_only() -> None:
    published = [p for service in SERVICES for p in _published(service)]
    assert published
    assert all(ip == "127.0.0.1" for ip, _, _ in published)
    assert ("127.0.0.1", 8080, 8080) in _published("kafka-ui")


def test_healthchecks_and_start_order() -> None:
    for service in ("kafka", "worker", "kafka-ui"):
        test = SERVICES[service]["healthcheck"]["test"]
        assert test[0] in {"CMD", "CMD-SHELL"}, service
    assert "localhost:9092" in " ".join(SERVICES["kafka"]["healthcheck"]["test"])
    assert _depends("topics") == {"kafka": "service_healthy"}
    assert _depends("worker") == {"kafka": "service_healthy", "topics": "service_completed_successfully"}
    assert _depends("kafka-ui") == {"kafka": "service_healthy"}
    assert SERVICES["topics"].get("restart", "no") == "no"


def test_kafka_ui_reads_the_internal_listener() -> None:
    ui = SERVICES["kafka-ui"]
    assert "kafka-ui" in ui["image"]
    assert _env("kafka-ui")["KAFKA_CLUSTERS_0_BOOTSTRAPSERVERS"] == _env("worker")[
        "NEWSWIRE_BROKER"
    ].removeprefix("kafka://")


def test_worker_image_and_settings() -> None:
    worker = SERVICES["worker"]
    dockerfile = ROOT / worker["build"]["context"] / worker["build"]["dockerfile"]
    text = dockerfile.read_text()
    assert re.search(r"^FROM python:3\.11-slim\b", text, re.M)
    assert re.search(r"^RUN pip install \.", text, re.M)
    assert worker["command"] == ["newswire", "worker"]
    assert re.search(r'^CMD \["newswire", "worker"\]', text, re.M)
    for copied in re.findall(r"^COPY (.+) \S+$", text, re.M):
        for path in copied.split():
            assert (ROOT / path).exists(), f"Dockerfile copies missing {path}"

    env = _env("worker")
    assert env["NEWSWIRE_BROKER"] == "kafka://kafka:9092"
    # The topic step and the worker agree on every topic name and size.
    for key in set(_env("topics")) - {"KAFKA_TOPICS"}:
        assert _env("topics")[key] == env[key], key
    # The compose Kafka keeps the default group.min.session.timeout.ms (6 s): stay above it.
    minimum = int(_env("kafka").get("KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS", "6000"))
    assert float(env["NEWSWIRE_SESSION_TIMEOUT"]) * 1000 >= minimum
    # The healthcheck polls the Faust web port, which must then be on.
    assert env["NEWSWIRE_WEB_PORT"] in " ".join(worker["healthcheck"]["test"])


def test_every_newswire_variable_is_read() -> None:
    """A misspelt NEWSWIRE_* variable would be ignored silently: each must be read by its user."""
    settings = set(re.findall(r'_env\("([A-Z_]+)"', (ROOT / "streams" / "settings.py").read_text()))
    script = set(re.findall(r"NEWSWIRE_([A-Z_]+)", (ROOT / "docker" / "create-topics.sh").read_text()))
    readers = {"worker": settings, "topics": script}
    for service, read in readers.items():
        used = {key.removeprefix("NEWSWIRE_") for key in _env(service) if key.startswith("NEWSWIRE_")}
        assert used and used <= read, f"{service}: {sorted(used - read)} not read"


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_topic_script_creates_every_topic(tmp_path: Path) -> None:
    """Run docker/create-topics.sh with a stand-in kafka-topics.sh that records its arguments."""
    calls = tmp_path / "calls"
    stub = tmp_path / "kafka-topics.sh"
    stub.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    stub.chmod(0o755)
    service = SERVICES["topics"]
    script = ROOT / service["volumes"][0].split(":")[0]
    assert service["entrypoint"][-1] == service["volumes"][0].split(":")[1]
    env = {**_env("topics"), "KAFKA_TOPICS": str(stub), "PATH": "/usr/bin:/bin"}

    subprocess.run(["sh", str(script)], env=env, check=True, capture_output=True, text=True)

    created: dict[str, tuple[int, list[str]]] = {}
    for line in calls.read_text().splitlines():
        args = line.split()
        assert args[args.index("--bootstrap-server") + 1] == "kafka:9092"
        if "--create" in args:
            assert "--if-not-exists" in args
            assert args[args.index("--replication-factor") + 1] == "1"
            configs = [args[i + 1] for i, arg in enumerate(args) if arg == "--config"]
            created[args[args.index("--topic") + 1]] = (int(args[args.index("--partitions") + 1]), configs)

    assert {name: parts for name, (parts, _) in created.items() if name.startswith("wire.")} == {
        "wire.articles": 4,
        "wire.stories": 1,
        "wire.enriched": 4,
        "wire.deadletter": 1,
    }
    settings = Settings.from_env(**{"app_id": _env("topics")["NEWSWIRE_APP_ID"]})
    for name, partitions in settings.topic_partitions().items():
        assert created[name][0] == partitions, name
    assert created["newswire-story-index-changelog"] == (1, ["cleanup.policy=compact"])
    large = f"max.message.bytes={settings.max_message_bytes}"
    assert created["wire.articles"][1] == [large] and created["wire.deadletter"][1] == [large]
