"""Input files -> record values: how `publish`, `run` and `enrich` read what they are given."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

RECORD_SUFFIXES = {".txt", ".json", ".jsonl", ".ndjson"}


def read_records(paths: list[str]) -> Iterator[bytes]:
    """Yield one record value per input: a .txt or .json file whole, a .jsonl file per line.

    Folders are read recursively in name order; "-" reads JSON lines from standard input.
    """
    for name in paths:
        if name == "-":
            yield from _lines(sys.stdin.buffer)
            continue
        path = Path(name)
        if not path.exists():
            raise FileNotFoundError(f"no such file or folder: {name}")
        files = sorted(p for p in path.rglob("*") if p.suffix in RECORD_SUFFIXES) if path.is_dir() else [path]
        for file in files:
            if file.suffix in {".jsonl", ".ndjson"}:
                with file.open("rb") as lines:
                    yield from _lines(lines)
            else:
                yield file.read_bytes()


def count_records(paths: list[str]) -> int | None:
    """Return how many records `paths` hold, or None when standard input makes it unknowable."""
    if "-" in paths:
        return None
    return sum(1 for _ in read_records(paths))


def _lines(stream) -> Iterator[bytes]:
    for line in stream:
        line = line.rstrip(b"\r\n")
        if line.strip():
            yield line
