"""One TLS context per process for the sources' HTTP clients.

httpx builds a context (and loads the CA bundle) for every client it creates, ~40 ms each; a
night creates one client per source asset. The context is the one httpx would build itself
(`trust_env`: SSL_CERT_FILE and SSL_CERT_DIR are honoured), made once and shared: an SSLContext
is meant to be shared between connections and threads.
"""

from __future__ import annotations

import ssl
from functools import cache

import httpx


@cache
def tls_context() -> ssl.SSLContext:
    return httpx.create_ssl_context(trust_env=True)
