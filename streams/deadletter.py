"""What a rejected message looks like, and why it was rejected."""

from __future__ import annotations

import base64
from dataclasses import dataclass

import orjson


class Rejected(Exception):
    """An input the pipeline cannot enrich; it goes to the dead-letter topic with this reason."""

    def __init__(self, error_class: str, reason: str, stage: str = "ingest") -> None:
        super().__init__(reason)
        self.error_class = error_class
        self.reason = reason
        self.stage = stage


@dataclass(slots=True)
class DeadLetter:
    """A dead-letter record: the original bytes, why they were rejected, and where they came from."""

    error_class: str
    reason: str
    stage: str
    topic: str | None
    partition: int | None
    offset: int | None
    original: bytes

    @classmethod
    def of(cls, error: Rejected, original: bytes, topic=None, partition=None, offset=None) -> DeadLetter:
        """Return the dead letter for `original`, rejected with `error`."""
        return cls(error.error_class, error.reason, error.stage, topic, partition, offset, original)

    def to_json(self) -> bytes:
        """Return the record value: JSON with the original bytes in base64."""
        return orjson.dumps(
            {
                "error_class": self.error_class,
                "reason": self.reason,
                "stage": self.stage,
                "topic": self.topic,
                "partition": self.partition,
                "offset": self.offset,
                "original_base64": base64.b64encode(self.original).decode("ascii"),
            }
        )

    def headers(self) -> list[tuple[str, bytes]]:
        """Return the same facts as Kafka Connect's `__connect.errors.*` headers."""
        facts = {
            "topic": self.topic,
            "partition": self.partition,
            "offset": self.offset,
            "exception.class.name": self.error_class,
            "exception.message": self.reason,
            "stage": self.stage,
        }
        return [(f"__connect.errors.{k}", str(v).encode()) for k, v in facts.items() if v is not None]
