"""Run the Faust worker: in this process (`newswire worker`) or as a child process (`newswire run`, tests)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Self

import faust

from streams.brokers import die_with_parent


class Worker(faust.Worker):
    """Faust's worker without its terminal spinner.

    At -l warn or above the spinner sets the root logger to DEBUG so that it can spin on every
    record: each debug call in Faust and aiokafka then builds a record only to drop it (measured:
    about 6% of the worker's time on a backlog).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.spinner = None


def run_worker(log_level: str = "info") -> None:
    """Run the Faust worker in this process until it is stopped (SIGTERM or Ctrl-C)."""
    from streams.app import app, settings  # the app reads its settings from the environment

    argv = ["newswire", "worker", "-l", log_level]
    if settings.web_port:
        argv += ["--web-port", str(settings.web_port), "--web-bind", "127.0.0.1"]
    else:
        argv += ["--without-web"]  # Faust's CLI would otherwise bind 0.0.0.0:6066
    if settings.log_json:
        from streams.logs import json_logging_config

        # Faust's worker hands this to dictConfig in place of its coloured console handler;
        # --quiet drops the startup banner, the one thing it prints outside logging.
        app.conf.logging_config = json_logging_config(log_level)
        argv.insert(1, "--quiet")
    sys.argv = argv
    app.main()


class WorkerProcess:
    """A Faust worker in a child process, configured by NEWSWIRE_* variables; stops by itself."""

    def __init__(
        self,
        env: dict[str, str],
        *,
        log_level: str = "info",
        log_path: Path | None = None,
        module: str = "streams.cli",
    ):
        self.env = {**os.environ, **env}
        self.module = module  # run as `python -m <module> worker -l <level>`
        self.log_level = log_level
        self.log_path = log_path or Path(tempfile.mkstemp(prefix="newswire-worker-", suffix=".log")[1])
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Self:
        """Start the worker; return at once (the worker joins its group in the background)."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module, "worker", "-l", self.log_level],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            # Dies with its parent (a killed test run or benchmark), as the brokers do. SIGKILL, not
            # SIGTERM: a worker whose parent died often has no broker left, and Faust's graceful
            # stop then waits for it forever (seen: a worker left running an hour after its bench).
            preexec_fn=die_with_parent(signal.SIGKILL),  # type: ignore[arg-type]
        )
        log.close()
        return self

    def stop(self, timeout: float = 30.0) -> int | None:
        """Stop gracefully (SIGTERM), then kill after `timeout` seconds; return the exit code."""
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            return self.kill()

    def kill(self) -> int | None:
        """Kill the worker at once (SIGKILL to its process group), as a crash would."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        return self.process.wait()

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def log_tail(self, lines: int = 40) -> str:
        """Return the last lines of the worker's log, for error messages."""
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Block until the worker logs that it is ready, or raise with its log tail."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if "Ready" in self.log_path.read_text(errors="replace"):
                return
            if not self.running():
                raise RuntimeError(f"worker exited early:\n{self.log_tail()}")
            time.sleep(0.1)
        raise TimeoutError(f"worker not ready after {timeout:.0f} s:\n{self.log_tail()}")

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
