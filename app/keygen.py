"""New RSA signing keys, for the tool's LTI keys and the development LMS's platform key.

One function makes them all, so that the test suite, which builds a fresh tool and LMS for
hundreds of tests, can draw from a few keys made once (``generating_from``) instead of paying
~50-100 ms of CPU for each new 2048-bit key. The application never swaps the source.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from cryptography.hazmat.primitives.asymmetric import rsa

RSA_KEY_SIZE = 2048

KeySource = Callable[[], rsa.RSAPrivateKey]


def _generate() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=RSA_KEY_SIZE)


_source: KeySource = _generate


def new_rsa_key() -> rsa.RSAPrivateKey:
    """Return a new 2048-bit RSA private key (public exponent 65537)."""
    return _source()


@contextmanager
def generating_from(source: KeySource) -> Iterator[None]:
    """Take new keys from ``source`` in this process until the block ends (tests only)."""
    global _source
    previous, _source = _source, source
    try:
        yield
    finally:
        _source = previous
