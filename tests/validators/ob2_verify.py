#!/usr/bin/env python3
"""Validate an Open Badges 2.0 credential offline with 1EdTech's `openbadges` (validator-core).

Runs in the validators' own virtualenv (`make validators`: `.validators/ob2`, openbadges 1.1.2
with the Python 3.11 fixes in tests/validators/ob2/fixes.txt), never in the app's. The tests
call it through `tests/support/validators.py` (`verify_ob2`).

Usage:
    .validators/ob2/bin/python tests/validators/ob2_verify.py https://127.0.0.1:8765/assertions/1
    .validators/ob2/bin/python tests/validators/ob2_verify.py --file baked.png    # or .svg
    .validators/ob2/bin/python tests/validators/ob2_verify.py --file signed.jws   # compact JWS
    .validators/ob2/bin/python tests/validators/ob2_verify.py --file assertion.json
    .validators/ob2/bin/python tests/validators/ob2_verify.py --recipient a@example.org URL
    add --json to print the full report. Over https, REQUESTS_CA_BUNDLE names the CA to trust.

What it changes in the validator (and nothing else):
  * The validator's JSON-LD document loader always fetches https://w3id.org/openbadges/v2
    over the network although the package bundles that context
    (openbadges.verifier.openbadges_context.OPENBADGES_CONTEXT_V2_DICT). We answer that URL
    from the bundled copy.
  * Every other HTTP(S) request is allowed only to loopback hosts (127.0.0.0/8, localhost,
    ::1); anything else fails fast with a clear error instead of trying the internet.

Known gaps of the validator (openbadges 1.1.2; credential-anchors.md 3.1), so the tool's own
tests must cover these:
  * Hosted revocation: an assertion served 200 with "revoked": true is reported VALID. A 410
    Gone stub is invalid, but only because required properties are missing; no message says
    "revoked".
  * Signed revocation: a RevocationList with exactly ONE entry is missed (JSON-LD compaction
    turns the list into an object and the validator iterates its keys). With two or more
    entries it reports "has been revoked in RevocationList".
  * A JSON blob of a hosted assertion is not validated as given: its `id` URL is fetched again
    (so the server must be up), and a urn:uuid id gives "No hosted verification URL found".
  * The hosted assertion must be on its issuer's origin (host and port).
  * Some invalid inputs add a spurious second error "FLATTEN_EMBEDDED_RESOURCE ... IndexError"
    (the result is still "not valid").
  * Baked SVG: the bakery's unbake returns the `verify` attribute (the hosted URL), not the
    embedded JSON.
  * The CLI `openbadges verify` exits 0 even when invalid; this script exits 1.

Exit status: 0 valid, 1 not valid, 2 usage error. Without --json, the last line of the output
is `openBadgesVersion=... errors=N warnings=N valid=True|False` whenever the validator ran.
"""

import argparse
import ipaddress
import json
import sys
from urllib.parse import urlparse

import openbadges.verifier.verifier as ob_verifier
import requests
from openbadges import verify
from openbadges.verifier.openbadges_context import (
    OPENBADGES_CONTEXT_V2_DICT,
    OPENBADGES_CONTEXT_V2_URI,
)
from openbadges.verifier.utils import CachableDocumentLoader

BUNDLED = {
    OPENBADGES_CONTEXT_V2_URI: OPENBADGES_CONTEXT_V2_DICT,
    OPENBADGES_CONTEXT_V2_URI + "/": OPENBADGES_CONTEXT_V2_DICT,
}


def is_loopback(url):
    host = urlparse(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class OfflineDocumentLoader(CachableDocumentLoader):
    def __call__(self, url):
        if url in BUNDLED:
            return {"contextUrl": None, "documentUrl": url, "document": json.dumps(BUNDLED[url])}
        return super().__call__(url)


_real_send = requests.Session.send


def _loopback_only_send(self, request, **kwargs):
    if not is_loopback(request.url):
        raise requests.ConnectionError(
            f"offline validator: refusing non-loopback fetch of {request.url}"
        )
    return _real_send(self, request, **kwargs)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("url", nargs="?", help="hosted assertion URL (or JSON / JWS string)")
    ap.add_argument("--file", help="baked PNG/SVG, or a file holding JSON or a compact JWS")
    ap.add_argument("--recipient", help="email the assertion must be issued to")
    ap.add_argument("--json", action="store_true", help="print the whole report")
    args = ap.parse_args(argv)

    ob_verifier.CachableDocumentLoader = OfflineDocumentLoader
    requests.Session.send = _loopback_only_send

    profile = {"email": args.recipient} if args.recipient else None
    # No cache: requests-cache 0.4 memory cache is fine, but a fresh run is easier to reason about.
    options = {"use_cache": False, "cache_backend": None}
    if args.file:
        if args.file.lower().endswith((".png", ".svg")):
            with open(args.file, "rb") as f:
                result = verify(f, recipient_profile=profile, **options)
        else:
            with open(args.file) as f:
                result = verify(f.read().strip(), recipient_profile=profile, **options)
    elif args.url:
        result = verify(args.url, recipient_profile=profile, **options)
    else:
        ap.error("give a URL/JSON/JWS or --file")
        return 2

    report = result["report"]
    if args.json:
        print(json.dumps(result, indent=2, default=str))
    else:
        for m in report.get("messages", []):
            print(f"{m.get('messageLevel')}: {m.get('name', '')} {str(m.get('result'))[:300]}")
        print(
            f"openBadgesVersion={report.get('openBadgesVersion')} "
            f"errors={report.get('errorCount')} warnings={report.get('warningCount')} "
            f"valid={report.get('valid')}"
        )
    return 0 if report.get("valid") else 1


if __name__ == "__main__":
    sys.exit(main())
