"""The ``Link`` header of a paged LTI service answer (NRPS memberships, AGS line items and
results), read as RFC 8288 §3 writes it (https://www.rfc-editor.org/rfc/rfc8288#section-3).

pylti1p3 finds the next page with a regular expression that needs exactly ``rel="next"`` right
after the target; platforms also send ``rel=next`` unquoted, several relations in one ``rel``
(``rel="next last"``), other parameters first, several links in one header (Canvas sends
``current``, ``next``, ``first`` and ``last``), and relative targets.
"""

from __future__ import annotations

from urllib.parse import urljoin

_SPACE = " \t"


def _skip_space(header: str, i: int) -> int:
    while i < len(header) and header[i] in _SPACE:
        i += 1
    return i


def _skip_to_next_value(header: str, i: int) -> int:
    """Move past the rest of a malformed link-value: to just after the next comma that is not
    inside a quoted string or a target."""
    quoted = False
    while i < len(header):
        char = header[i]
        if quoted and char == "\\":
            i += 2
            continue
        if char == '"':
            quoted = not quoted
        elif char == "<" and not quoted:
            end = header.find(">", i)
            i = len(header) if end < 0 else end
        elif char == "," and not quoted:
            return i + 1
        i += 1
    return i


def _quoted(header: str, i: int) -> tuple[str, int]:
    """Read the quoted-string starting at ``header[i] == '"'``; return it and the index after."""
    i += 1
    chars = []
    while i < len(header) and header[i] != '"':
        if header[i] == "\\" and i + 1 < len(header):
            i += 1
        chars.append(header[i])
        i += 1
    return "".join(chars), i + 1


def _params(header: str, i: int) -> tuple[dict[str, str], int]:
    """Read ``*( OWS ";" OWS link-param )``; the first occurrence of a name counts."""
    params: dict[str, str] = {}
    while True:
        i = _skip_space(header, i)
        if i >= len(header) or header[i] != ";":
            return params, i
        i = _skip_space(header, i + 1)
        start = i
        while i < len(header) and header[i] not in "=;," + _SPACE:
            i += 1
        name = header[start:i].lower()
        i = _skip_space(header, i)
        value = ""
        if i < len(header) and header[i] == "=":
            i = _skip_space(header, i + 1)
            if i < len(header) and header[i] == '"':
                value, i = _quoted(header, i)
            else:
                start = i
                while i < len(header) and header[i] not in ";," + _SPACE:
                    i += 1
                value = header[start:i]
        if name:
            params.setdefault(name, value)


def parse_link_header(header: str) -> list[tuple[str, dict[str, str]]]:
    """Return the ``(target, parameters)`` of each link-value, parameter names lower-cased."""
    header = header.replace("\r", " ").replace("\n", " ")
    links: list[tuple[str, dict[str, str]]] = []
    i = 0
    while i < len(header):
        while i < len(header) and header[i] in _SPACE + ",":
            i += 1
        if i >= len(header):
            break
        end = header.find(">", i)
        if header[i] != "<" or end < 0:
            i = _skip_to_next_value(header, i)
            continue
        target = header[i + 1 : end].strip()
        params, i = _params(header, end + 1)
        links.append((target, params))
        i = _skip_to_next_value(header, i)
    return links


def next_link(header: str | None, base_url: str) -> str | None:
    """Return the absolute URL of the link whose ``rel`` includes ``next``, if any; a relative
    target is resolved against ``base_url`` (the URL of the page that sent the header)."""
    if not header:
        return None
    for target, params in parse_link_header(header):
        if target and "next" in params.get("rel", "").lower().split():
            return urljoin(base_url, target)
    return None
