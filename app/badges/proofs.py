"""Data Integrity proofs with the ``eddsa-rdfc-2022`` cryptosuite, and Ed25519 Multikeys.

An Open Badges 3.0 credential and a status list credential carry an embedded
``DataIntegrityProof`` (OB 3.0 §8.3, https://www.imsglobal.org/spec/ob/v3p0/#data-integrity;
1EdTech's conformance tests accept only ``eddsa-rdfc-2022``). The algorithm is W3C Data
Integrity EdDSA Cryptosuites v1.0 §3.3 (https://www.w3.org/TR/vc-di-eddsa/#eddsa-rdfc-2022):
canonicalise the document and the proof configuration with RDFC-1.0 (pyld's ``URDNA2015``,
the same algorithm), hash each with SHA-256, sign ``hash(proof config) || hash(document)``
with Ed25519, and encode the signature as multibase base58btc. A DID document publishes the
public key as a Multikey (W3C Controlled Identifiers §2.2.2, https://www.w3.org/TR/cid-1.0/#Multikey).

JSON-LD contexts come only from the files in ``contexts/`` (``index.json`` maps each URL to its
file): nothing is ever fetched. The files are data, taken unchanged from
``@digitalcredentials/security-document-loader``'s bundled contexts (the Digital Credentials
Consortium verifier's own copies; ``ob-v3p0-context-3.0.3.json`` is byte-equal to 1EdTech's) and,
for Multikey, from ``digitalbazaar/multikey-context`` ``contexts/multikey-v1.jsonld``.

pyld has no JSON-LD "safe mode": a property its contexts do not define is silently dropped, so it
would go unsigned, and the JavaScript verifiers (jsonld.js in safe mode) then reject the whole
proof. ``sign`` therefore refuses such documents and ``verify`` fails them, as do terms that only
expand through the VC "issuer-dependent" vocabulary, which the Open Badges validators treat as
undefined.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pyld import jsonld

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-rdfc-2022"
PROOF_PURPOSE = "assertionMethod"

ISSUER_DEPENDENT_VOCAB = "https://www.w3.org/ns/credentials/issuer-dependent#"
"""Where VC 2.0 drafts sent terms an issuer did not define, by an ``@vocab`` in the base context.
The published context (the bundled one) has no ``@vocab``; a document can still declare it."""

CONTEXTS_DIR = Path(__file__).with_name("contexts")

_ED25519_MULTICODEC = b"\xed\x01"  # the multicodec varint for "ed25519-pub"
_ED25519_SIGNATURE_BYTES = 64
_ABSOLUTE_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


class UnknownContext(LookupError):
    """A JSON-LD context the tool does not bundle was asked for; nothing is fetched."""

    def __init__(self, url: str) -> None:
        super().__init__(
            f"The JSON-LD context {url!r} is not bundled with the tool "
            f"(see {CONTEXTS_DIR.name}/index.json); contexts are never fetched."
        )
        self.url = url


class UnsignableDocument(ValueError):
    """The document cannot be signed as it stands; str(exc) names what to change."""

    def __init__(self, message: str, paths: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.paths = paths
        """Where in the document the offending terms are, e.g. ``credentialSubject.notes``."""


@dataclass(frozen=True)
class Verification:
    """The outcome of checking a document's proof."""

    ok: bool
    reason: str
    """A plain sentence for a person: why the proof holds or why it does not."""


# --- multibase / Multikey -------------------------------------------------------------------

_B58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX = {char: value for value, char in enumerate(_B58_ALPHABET)}


def _base58btc_encode(data: bytes) -> str:
    """Encode bytes in the Bitcoin base58 alphabet (each leading zero byte becomes a "1")."""
    number = int.from_bytes(data, "big")
    digits = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(_B58_ALPHABET[remainder])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(digits))


def _base58btc_decode(text: str) -> bytes:
    """Decode Bitcoin base58; raise ValueError on a character outside the alphabet."""
    number = 0
    for char in text:
        value = _B58_INDEX.get(char)
        if value is None:
            raise ValueError(f"{char!r} is not a base58btc character")
        number = number * 58 + value
    zeros = len(text) - len(text.lstrip("1"))
    return b"\0" * zeros + number.to_bytes((number.bit_length() + 7) // 8, "big")


def multikey(public_key: Ed25519PublicKey) -> str:
    """Encode an Ed25519 public key as a Multikey ``publicKeyMultibase`` (``z6Mk…``)."""
    raw = public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return "z" + _base58btc_encode(_ED25519_MULTICODEC + raw)


def public_key_from_multikey(value: str) -> Ed25519PublicKey:
    """Decode a ``z6Mk…`` Multikey to an Ed25519 public key; raise ValueError if it is not one."""
    if not isinstance(value, str) or not value.startswith("z"):
        raise ValueError("A Multikey must be a base58btc multibase string starting with 'z'.")
    try:
        raw = _base58btc_decode(value[1:])
    except ValueError as error:
        raise ValueError(f"The Multikey is not valid base58btc: {error}.") from None
    if not raw.startswith(_ED25519_MULTICODEC) or len(raw) != len(_ED25519_MULTICODEC) + 32:
        raise ValueError("The Multikey is not an Ed25519 public key (expected 'z6Mk…').")
    return Ed25519PublicKey.from_public_bytes(raw[len(_ED25519_MULTICODEC) :])


def resolve_did_key(verification_method: str) -> Ed25519PublicKey | None:
    """Return the key a ``did:key:z6Mk…#z6Mk…`` verification method names, else None.

    A did:key carries its public key in the identifier itself
    (https://w3c-ccg.github.io/did-key-spec/#ed25519-x25519), so nothing is looked up.
    """
    did, _, fragment = verification_method.partition("#")
    encoded = did.removeprefix("did:key:")
    if encoded == did or fragment != encoded:
        return None
    try:
        return public_key_from_multikey(encoded)
    except ValueError:
        return None


# --- JSON-LD contexts, from files only -------------------------------------------------------

_contexts: dict[str, Any] | None = None
_contexts_lock = threading.Lock()


def _bundled_contexts() -> dict[str, Any]:
    """Read every bundled context once per process."""
    global _contexts
    if _contexts is None:
        with _contexts_lock:
            if _contexts is None:
                index = json.loads((CONTEXTS_DIR / "index.json").read_text(encoding="utf-8"))
                _contexts = {
                    url: json.loads((CONTEXTS_DIR / name).read_text(encoding="utf-8"))
                    for url, name in index.items()
                }
    return _contexts


def bundled_context_urls() -> frozenset[str]:
    """Return the context URLs the document loader answers."""
    return frozenset(_bundled_contexts())


def load_document(url: str, options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Answer pyld's request for a context from the bundled files; raise UnknownContext else.

    The signature is pyld's ``documentLoader``; pass ``{"documentLoader": load_document}``."""
    document = _bundled_contexts().get(url)
    if document is None:
        raise UnknownContext(url)
    return {
        "contentType": "application/ld+json",
        "contextUrl": None,
        "documentUrl": url,
        # A copy, because pyld may rewrite relative context URLs inside what it is given.
        "document": copy.deepcopy(document),
        # "static" lets pyld keep the resolved context, and the active contexts it processes
        # from it, in its process-wide cache: the expensive part of expanding a credential is
        # then done once, not on every signature. The files never change while running.
        "tag": "static",
    }


# --- canonicalisation ------------------------------------------------------------------------

# pyld keeps its context caches in cachetools LRU caches, which are not safe to update from
# several threads at once. The work is pure Python, so the GIL serialises it anyway and this
# lock costs no throughput.
_pyld_lock = threading.Lock()

# Active contexts pyld has processed, for _CheckingProcessor._process_context. A credential of
# the tool's shape needs about a dozen; the bound is for documents with an embedded (inline)
# context, each of which adds entries no later document will use.
_PROCESSED_CONTEXTS_MAX = 256
_processed_contexts: OrderedDict[tuple[Any, ...], tuple[Any, Any]] = OrderedDict()


class _UndefinedTerms(Exception):
    def __init__(self, terms: set[str], values: set[str]) -> None:
        super().__init__(sorted(terms | values))
        self.terms = terms
        """Properties and type names no context defines."""
        self.values = values
        """Identifiers (``id`` or IRI-valued properties) that are not absolute IRIs."""

    def paths(self, document: Mapping[str, Any]) -> tuple[str, ...]:
        """Say where in the compacted document the undefined terms and identifiers are."""
        found = tuple(_paths_of(document, self.terms, self.values))
        return found or tuple(sorted(self.terms | self.values))


class _CheckingProcessor(jsonld.JsonLdProcessor):
    """A pyld processor that refuses what jsonld.js "safe mode" refuses, as it expands.

    pyld drops a property no context defines (reporting it to ``on_property_dropped``) and keeps
    relative IRIs, which RDF conversion then drops with every statement about them. Either way
    part of the document would go unsigned. Checking the expanded form inside ``expand`` (which
    ``normalize`` calls once) costs one walk over it, not a second expansion.
    """

    def __init__(self) -> None:
        self.dropped: set[str] = set()
        super().__init__(on_property_dropped=self._on_property_dropped)

    def _on_property_dropped(self, term: str | None) -> None:
        # None is a term the context maps to null on purpose; it is dropped all the same.
        self.dropped.add(term if term is not None else "(a term mapped to null)")

    def _process_context(
        self,
        active_ctx: Any,
        local_ctx: Any,
        options: Any,
        override_protected: bool = False,
        propagate: bool = True,
        validate_scoped: bool = True,
        cycles: Any = None,
    ) -> Any:
        # pyld caches a processed context per active context, but applies a type-scoped
        # context (Achievement, Profile, AchievementSubject, ... in the OB context) to a fresh
        # clone of the active context, whose new identity never hits that cache: reprocessing
        # them was 60 % of the time of a signature. Their result depends only on the active
        # context, which pyld identifies by its "_uuid" (the key of its own cache), the local
        # context and the flags, so it is remembered here under the same key. The method is
        # pyld's (pinned in pyproject); the test vector and the canonical-form tests guard it.
        active_id = active_ctx.get("_uuid")
        if cycles is not None or active_id is None:
            # A nested call made while a context is still being built (its id will change).
            return super()._process_context(
                active_ctx,
                local_ctx,
                options,
                override_protected,
                propagate,
                validate_scoped,
                cycles,
            )
        key = (
            active_id,
            _local_context_key(local_ctx),
            override_protected,
            propagate,
            validate_scoped,
            options.get("base"),
        )
        remembered = _processed_contexts.get(key)
        if remembered is not None:
            _processed_contexts.move_to_end(key)
            return remembered[1]
        processed = super()._process_context(
            active_ctx, local_ctx, options, override_protected, propagate, validate_scoped
        )
        if isinstance(processed, Mapping) and "_uuid" in processed:
            # Holding local_ctx keeps it alive, so no other object can take its id() (the key).
            _processed_contexts[key] = (local_ctx, processed)
            if len(_processed_contexts) > _PROCESSED_CONTEXTS_MAX:
                _processed_contexts.popitem(last=False)
        return processed

    def expand(self, input_: Any, options: Any) -> Any:
        expanded = super().expand(input_, options)
        terms = set(self.dropped)
        values: set[str] = set()
        _collect_undefined(expanded, terms, values)
        if terms or values:
            raise _UndefinedTerms(terms, values)
        return expanded


def _local_context_key(local_ctx: Any) -> Any:
    """Key a local context by value when it is context URLs, else by identity."""
    if isinstance(local_ctx, str):
        return local_ctx
    if isinstance(local_ctx, list) and all(isinstance(item, str) for item in local_ctx):
        return tuple(local_ctx)
    return id(local_ctx)


def _collect_undefined(node: Any, terms: set[str], values: set[str]) -> None:
    """Add the undefined terms and relative identifiers in an expanded document to the sets."""
    if isinstance(node, list):
        for item in node:
            _collect_undefined(item, terms, values)
        return
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        if key == "@type":
            for type_iri in value if isinstance(value, list) else [value]:
                if isinstance(type_iri, str) and _is_undefined(type_iri):
                    terms.add(type_iri.removeprefix(ISSUER_DEPENDENT_VOCAB))
        elif key == "@id":
            if isinstance(value, str) and not _is_absolute_or_blank(value):
                values.add(value)
        elif key == "@value":
            # A literal (a JSON object when typed @json) holds no terms.
            continue
        else:
            if _is_undefined(key):
                terms.add(key.removeprefix(ISSUER_DEPENDENT_VOCAB))
            _collect_undefined(value, terms, values)


def _is_undefined(iri: str) -> bool:
    if iri.startswith("@"):
        return False
    return iri.startswith(ISSUER_DEPENDENT_VOCAB) or not _ABSOLUTE_IRI.match(iri)


def _is_absolute_or_blank(iri: str) -> bool:
    return iri.startswith("_:") or bool(_ABSOLUTE_IRI.match(iri))


def _canonical_hash(document: Mapping[str, Any]) -> bytes:
    """Return SHA-256 of the RDFC-1.0 canonical N-Quads of a JSON-LD document.

    Raise _UndefinedTerms if part of the document would not be signed (see _CheckingProcessor),
    UnknownContext for a context that is not bundled, JsonLdError for invalid JSON-LD.
    """
    options = {
        "documentLoader": load_document,
        # No base IRI, as jsonld.js verifiers use: a relative IRI stays relative and is refused
        # instead of being silently resolved against pyld's placeholder base.
        "base": None,
        "algorithm": "URDNA2015",
        "format": "application/n-quads",
    }
    try:
        with _pyld_lock:
            nquads = _CheckingProcessor().normalize(document, options)
    except jsonld.JsonLdError as error:
        unknown = _unknown_context_in(error)
        if unknown is not None:
            raise unknown from None
        raise
    return hashlib.sha256(nquads.encode("utf-8")).digest()


def _unknown_context_in(error: BaseException) -> UnknownContext | None:
    """Find the UnknownContext pyld wrapped (possibly several times) in its own errors."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, UnknownContext):
            return cause
        cause = cause.__cause__ or cause.__context__
    return None


def _paths_of(document: Any, terms: set[str], values: set[str], path: str = "") -> Iterator[str]:
    """Yield where terms appear as keys or type names, or values as identifiers, in a document."""
    if isinstance(document, list):
        for position, item in enumerate(document):
            yield from _paths_of(item, terms, values, f"{path}[{position}]")
    elif isinstance(document, dict):
        for key, value in document.items():
            if key == "@context":
                continue
            here = f"{path}.{key}" if path else key
            if key in terms:
                yield here
            yield from _paths_of(value, terms, values, here)
    elif isinstance(document, str) and (document in values or document in terms):
        yield path


def _refusal(document: Mapping[str, Any], undefined: _UndefinedTerms) -> UnsignableDocument:
    paths = undefined.paths(document)
    return UnsignableDocument(
        "These terms or identifiers do not expand to absolute IRIs under the document's "
        "@context (or only through the issuer-dependent vocabulary), so they would not be "
        "signed and verifiers would reject the proof: " + ", ".join(paths) + ".",
        paths,
    )


def _hash_data(unsecured: Mapping[str, Any], proof_config: Mapping[str, Any]) -> bytes:
    return _canonical_hash(proof_config) + _canonical_hash(unsecured)


# --- sign and verify -------------------------------------------------------------------------


def sign(
    document: Mapping[str, Any],
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: datetime,
) -> dict[str, Any]:
    """Return a copy of the document with an eddsa-rdfc-2022 ``DataIntegrityProof`` added.

    ``verification_method`` is the id of the key in the issuer's DID document (for did:web,
    ``did:web:host#key-1``); ``created`` must be timezone-aware. Raise UnsignableDocument if the
    document has no @context, already has a proof, is not valid JSON-LD, or has terms its
    contexts do not define; UnknownContext if it names a context the tool does not bundle.
    """
    if "@context" not in document:
        raise UnsignableDocument("The document has no @context.")
    if "proof" in document:
        raise UnsignableDocument("The document already has a proof.", ("proof",))
    if created.tzinfo is None:
        raise ValueError("created must be timezone-aware.")
    unsecured = copy.deepcopy(dict(document))
    proof = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "created": created.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "verificationMethod": verification_method,
        "proofPurpose": PROOF_PURPOSE,
    }
    try:
        document_hash = _canonical_hash(unsecured)
        proof_hash = _canonical_hash({"@context": unsecured["@context"], **proof})
    except _UndefinedTerms as undefined:
        raise _refusal(unsecured, undefined) from None
    except jsonld.JsonLdError as error:
        raise UnsignableDocument(f"The document is not valid JSON-LD: {error}") from error
    signature = private_key.sign(proof_hash + document_hash)
    return {**unsecured, "proof": {**proof, "proofValue": "z" + _base58btc_encode(signature)}}


def verify(
    document: Mapping[str, Any],
    resolve_key: Callable[[str], Ed25519PublicKey | None],
) -> Verification:
    """Check a document's eddsa-rdfc-2022 proof against the key its issuer publishes.

    ``resolve_key`` maps a verification method id to the issuer's public key, or None when the
    issuer publishes no such key (``resolve_did_key`` for did:key). The verification method
    must belong to the issuer: its id, without the fragment, is the issuer's id.
    """
    if not isinstance(document, Mapping):
        return Verification(False, "The credential is not a JSON object.")
    proof = document.get("proof")
    if proof is None:
        return Verification(False, "The credential has no proof.")
    if not isinstance(proof, Mapping):
        return Verification(False, "The credential has more than one proof, or a malformed one.")
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        return Verification(
            False, f"The proof is not a {PROOF_TYPE} with the {CRYPTOSUITE} cryptosuite."
        )
    if proof.get("proofPurpose") != PROOF_PURPOSE:
        return Verification(False, "The proof was not made to assert the credential.")
    method = proof.get("verificationMethod")
    if not isinstance(method, str) or not method:
        return Verification(False, "The proof does not name the key that signed it.")
    issuer = document.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    if not isinstance(issuer_id, str) or method.partition("#")[0] != issuer_id:
        return Verification(False, "The signing key does not belong to the credential's issuer.")
    public_key = resolve_key(method)
    if public_key is None:
        return Verification(False, "The signing key is not published by the issuer.")
    signature = _decode_signature(proof.get("proofValue"))
    if signature is None:
        return Verification(False, "The proof's signature value is malformed.")
    unsecured = {key: value for key, value in document.items() if key != "proof"}
    if "@context" not in unsecured:
        return Verification(False, "The credential has no @context.")
    if "@context" in proof and not _starts_with(unsecured["@context"], proof["@context"]):
        # Data Integrity §4.4 (https://www.w3.org/TR/vc-data-integrity/#verify-proof).
        return Verification(False, "The proof's @context does not match the credential's.")
    proof_config = {key: value for key, value in proof.items() if key != "proofValue"}
    proof_config["@context"] = unsecured["@context"]
    try:
        data = _hash_data(unsecured, proof_config)
    except UnknownContext as unknown:
        return Verification(
            False, f"The credential uses a JSON-LD context the tool does not know: {unknown.url}."
        )
    except _UndefinedTerms as undefined:
        return Verification(
            False,
            "The credential has terms or identifiers its @context does not define, so the "
            f"signature cannot cover them: {', '.join(undefined.paths(unsecured))}.",
        )
    except (jsonld.JsonLdError, TypeError, ValueError):
        return Verification(False, "The credential is not valid JSON-LD.")
    try:
        public_key.verify(signature, data)
    except InvalidSignature:
        return Verification(False, "The signature does not match the credential's contents.")
    return Verification(True, "The signature is valid and was made with the issuer's key.")


def _starts_with(context: object, prefix: object) -> bool:
    whole = context if isinstance(context, list) else [context]
    start = prefix if isinstance(prefix, list) else [prefix]
    return whole[: len(start)] == start


def _decode_signature(proof_value: object) -> bytes | None:
    if not isinstance(proof_value, str) or not proof_value.startswith("z"):
        return None
    try:
        signature = _base58btc_decode(proof_value[1:])
    except ValueError:
        return None
    return signature if len(signature) == _ED25519_SIGNATURE_BYTES else None
