"""SASL and TLS settings for real clusters: aiokafka client options and the Faust credentials from them.

The environment names the files (NEWSWIRE_SSL_CAFILE, ...); aiokafka wants an `ssl.SSLContext`,
Faust wants a `Credentials` object. Secrets live only in these objects, whose reprs hide them.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping

SSL_PROTOCOLS = {"SSL", "SASL_SSL"}
SASL_PROTOCOLS = {"SASL_PLAINTEXT", "SASL_SSL"}


class ClientOptions(dict):
    """Keyword arguments for aiokafka clients; its repr never shows the password."""

    def __repr__(self) -> str:
        shown = {k: ("***" if "password" in k else v) for k, v in self.items()}
        return f"ClientOptions({shown!r})"

    __str__ = __repr__


def client_options(values: Mapping[str, str]) -> ClientOptions:
    """Return aiokafka keyword arguments for security settings named as aiokafka names them.

    `values` holds `security_protocol`, `sasl_mechanism`, `sasl_plain_username`,
    `sasl_plain_password`, `ssl_cafile`, `ssl_certfile`, `ssl_keyfile` (any may be missing). The
    files become one `ssl_context`; SSL protocols without a CA file trust the system's CAs.
    Raises ValueError for an unknown protocol and OSError for a missing file.
    """
    options = ClientOptions()
    protocol = (values.get("security_protocol") or "").upper()
    cafile, certfile, keyfile = (values.get(f"ssl_{n}") for n in ("cafile", "certfile", "keyfile"))
    if not protocol:
        # Files alone mean TLS; a mechanism alone means SASL: say so rather than silently connect in clear.
        has_sasl = bool(values.get("sasl_mechanism") or values.get("sasl_plain_username"))
        has_ssl = bool(cafile or certfile)
        if not (has_sasl or has_ssl):
            return options
        protocol = ("SASL_" if has_sasl else "") + ("SSL" if has_ssl else "PLAINTEXT")
    if protocol not in SSL_PROTOCOLS | SASL_PROTOCOLS | {"PLAINTEXT"}:
        raise ValueError(f"unknown security protocol {protocol!r} (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL)")
    options["security_protocol"] = protocol
    if protocol in SSL_PROTOCOLS:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=cafile)
        if certfile:
            context.load_cert_chain(certfile, keyfile)
        options["ssl_context"] = context
    if protocol in SASL_PROTOCOLS:
        options["sasl_mechanism"] = (values.get("sasl_mechanism") or "PLAIN").upper()
        for name in ("sasl_plain_username", "sasl_plain_password"):
            if values.get(name) is not None:
                options[name] = values[name]
    return options


def faust_credentials(options: Mapping[str, object]) -> object | None:
    """Return Faust `broker_credentials` for aiokafka `options` (None for plaintext without SASL)."""
    import faust

    protocol = options.get("security_protocol", "PLAINTEXT")
    context = options.get("ssl_context")
    if protocol in SASL_PROTOCOLS:
        # Faust picks SASL_SSL exactly when it is given an SSL context.
        return faust.SASLCredentials(
            username=options.get("sasl_plain_username"),  # type: ignore[arg-type]
            password=options.get("sasl_plain_password"),  # type: ignore[arg-type]
            ssl_context=context,  # type: ignore[arg-type]
            mechanism=options.get("sasl_mechanism"),  # type: ignore[arg-type]
        )
    if protocol == "SSL":
        return faust.SSLCredentials(context)  # type: ignore[arg-type]
    return None
