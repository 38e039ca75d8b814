"""SASL and TLS settings pass from the environment to aiokafka and Faust, and the password never shows."""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import sys
import textwrap
from pathlib import Path

import faust
import pytest

from streams.security import client_options, faust_credentials
from streams.settings import Settings

SECRET = "s3cr3t-Pa55word-do-not-log"
SASL_ENV = {
    "NEWSWIRE_SECURITY_PROTOCOL": "SASL_SSL",
    "NEWSWIRE_SASL_MECHANISM": "SCRAM-SHA-512",
    "NEWSWIRE_SASL_USERNAME": "newswire",
    "NEWSWIRE_SASL_PASSWORD": SECRET,
}


@pytest.fixture
def sasl_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in SASL_ENV.items():
        monkeypatch.setenv(name, value)


def test_settings_turn_the_environment_into_aiokafka_options(sasl_env: None) -> None:
    security = Settings.from_env().security
    assert security["security_protocol"] == "SASL_SSL"
    assert security["sasl_mechanism"] == "SCRAM-SHA-512"
    assert security["sasl_plain_username"] == "newswire"
    assert security["sasl_plain_password"] == SECRET
    # No CA file: TLS trusts the system's CAs and checks host names.
    context = security["ssl_context"]
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


def test_the_password_is_not_in_any_repr(sasl_env: None) -> None:
    settings = Settings.from_env()
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings)
    assert SECRET not in repr(settings.security) and "***" in repr(settings.security)
    assert SECRET not in repr(faust_credentials(settings.security))


async def test_aiokafka_clients_accept_the_options(sasl_env: None) -> None:
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient

    options = Settings.from_env().security
    # Constructing checks the keywords and the SSL/SASL combination; nothing connects.
    AIOKafkaProducer(bootstrap_servers="127.0.0.1:1", **options)
    AIOKafkaConsumer(bootstrap_servers="127.0.0.1:1", **options)
    AIOKafkaAdminClient(bootstrap_servers="127.0.0.1:1", **options)


def test_faust_credentials_follow_the_protocol() -> None:
    sasl = faust_credentials(
        client_options({"security_protocol": "SASL_PLAINTEXT", "sasl_plain_username": "u"})
    )
    assert isinstance(sasl, faust.SASLCredentials) and sasl.protocol.value == "SASL_PLAINTEXT"
    assert sasl.mechanism.value == "PLAIN"
    tls = faust_credentials(client_options({"security_protocol": "SSL"}))
    assert isinstance(tls, faust.SSLCredentials) and tls.protocol.value == "SSL"
    assert faust_credentials(client_options({})) is None
    assert client_options({}) == {}


def test_files_alone_imply_tls_and_a_mechanism_alone_implies_sasl() -> None:
    ca = ssl.get_default_verify_paths().openssl_cafile
    if not Path(ca).exists():
        pytest.skip("no system CA bundle")
    assert client_options({"ssl_cafile": ca})["security_protocol"] == "SSL"
    assert client_options({"sasl_mechanism": "PLAIN"})["security_protocol"] == "SASL_PLAINTEXT"
    with pytest.raises(ValueError, match="unknown security protocol"):
        client_options({"security_protocol": "TLS"})
    with pytest.raises(OSError):
        client_options({"security_protocol": "SSL", "ssl_cafile": "/nonexistent/ca.pem"})


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a key")
def test_a_client_certificate_is_loaded(tmp_path: Path) -> None:
    key, cert = tmp_path / "client.key", tmp_path / "client.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=newswire",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    options = client_options({"ssl_cafile": str(cert), "ssl_certfile": str(cert), "ssl_keyfile": str(key)})
    assert options["security_protocol"] == "SSL"
    assert isinstance(options["ssl_context"], ssl.SSLContext)


def test_the_faust_app_built_from_the_environment_gets_the_credentials(tmp_path: Path) -> None:
    """Import the real app in a fresh process with the security variables and every logger at debug."""
    script = textwrap.dedent(
        """
        import logging, sys
        logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)
        from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
        from streams.app import app, settings
        logging.getLogger("streams").info("settings %s %r", settings, settings)
        logging.getLogger("streams").info("credentials %r", app.conf.broker_credentials)
        auth = credentials_to_aiokafka_auth(app.conf.broker_credentials, app.conf.ssl_context)
        print(auth["security_protocol"], auth["sasl_mechanism"], auth["sasl_plain_username"])
        print(auth["sasl_plain_password"] == settings.security["sasl_plain_password"])
        print(type(auth["ssl_context"]).__name__)
        """
    )
    env = {**os.environ, **SASL_ENV, "NEWSWIRE_DATA_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:3] == ["SASL_SSL SCRAM-SHA-512 newswire", "True", "SSLContext"]
    assert "settings Settings(" in done.stderr  # the settings were logged, at debug level and up
    assert SECRET not in done.stderr
