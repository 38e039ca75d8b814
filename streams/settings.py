"""Every knob of newswire, read from the environment (NEWSWIRE_*), with sensible defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from streams.security import client_options


def _env(name: str, default: str) -> str:
    return os.environ.get(f"NEWSWIRE_{name}", default)


@dataclass(frozen=True, slots=True)
class Settings:
    """The configuration of one worker or command; `Settings.from_env()` reads it."""

    broker: str = "kafka://127.0.0.1:9092"
    app_id: str = "newswire"
    input_topic: str = "wire.articles"
    stories_topic: str = "wire.stories"
    output_topic: str = "wire.enriched"
    deadletter_topic: str = "wire.deadletter"
    partitions: int = 4
    max_body_bytes: int = 1_000_000
    # Large enough for a rejected 10 MB input to reach the dead letter with its original bytes.
    max_message_bytes: int = 32 * 1024 * 1024
    dedup_window_hours: float = 72.0
    dedup_translations: bool = False
    # Short sessions make the embedded broker's group join fast; real clusters often need >= 6 s.
    session_timeout: float = 2.0
    # Faust's rocksdb store runs on rocksdict; the changelog topic is what recovery reads.
    store: str = "rocksdb://"
    # How long a fetch may wait for records; the embedded broker always waits this long.
    fetch_wait_ms: int = 100
    data_dir: str = ".cache/worker"
    web_port: int = 0
    log_json: bool = False
    # aiokafka keyword arguments (SASL, an SSL context); kept out of the repr: it holds the password.
    security: dict[str, object] = field(default_factory=dict, repr=False)

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        """Return settings from NEWSWIRE_* variables, then `overrides`."""
        defaults = cls()  # slots hide the defaults on the class; an instance shows them
        values: dict[str, object] = {
            "broker": _env("BROKER", defaults.broker),
            "app_id": _env("APP_ID", defaults.app_id),
            "input_topic": _env("INPUT_TOPIC", defaults.input_topic),
            "stories_topic": _env("STORIES_TOPIC", defaults.stories_topic),
            "output_topic": _env("OUTPUT_TOPIC", defaults.output_topic),
            "deadletter_topic": _env("DEADLETTER_TOPIC", defaults.deadletter_topic),
            "partitions": int(_env("PARTITIONS", str(defaults.partitions))),
            "max_body_bytes": int(_env("MAX_BODY_BYTES", str(defaults.max_body_bytes))),
            "dedup_window_hours": float(_env("DEDUP_WINDOW_HOURS", str(defaults.dedup_window_hours))),
            "dedup_translations": _env("DEDUP_TRANSLATIONS", "0").lower() in {"1", "true", "yes"},
            "session_timeout": float(_env("SESSION_TIMEOUT", str(defaults.session_timeout))),
            "store": _env("STORE", defaults.store),
            "fetch_wait_ms": int(_env("FETCH_WAIT_MS", str(defaults.fetch_wait_ms))),
            "data_dir": _env("DATA_DIR", defaults.data_dir),
            "web_port": int(_env("WEB_PORT", str(defaults.web_port))),
            "log_json": _env("LOG_JSON", "0").lower() in {"1", "true", "yes"},
            "security": client_options(
                {
                    key: os.environ[f"NEWSWIRE_{env}"]
                    for key, env in _SECURITY_ENV.items()
                    if f"NEWSWIRE_{env}" in os.environ
                }
            ),
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]

    @property
    def bootstrap(self) -> str:
        """Return the first broker as host:port, without the kafka:// scheme."""
        return self.broker.split(";")[0].split(",")[0].removeprefix("kafka://")

    def topic_partitions(self) -> dict[str, int]:
        """Return every topic newswire uses with its partition count."""
        return {
            self.input_topic: self.partitions,
            # One partition: the dedup index sees every story in order (see README, "Scale").
            self.stories_topic: 1,
            self.output_topic: self.partitions,
            self.deadletter_topic: 1,
        }


# Passed through to aiokafka for real clusters; never logged.
_SECURITY_ENV = {
    "security_protocol": "SECURITY_PROTOCOL",
    "sasl_mechanism": "SASL_MECHANISM",
    "sasl_plain_username": "SASL_USERNAME",
    "sasl_plain_password": "SASL_PASSWORD",
    "ssl_cafile": "SSL_CAFILE",
    "ssl_certfile": "SSL_CERTFILE",
    "ssl_keyfile": "SSL_KEYFILE",
}
