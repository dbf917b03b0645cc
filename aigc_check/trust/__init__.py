"""Trust anchors for C2PA signatures: the shipped C2PA trust list (or the user's refreshed copy of
it, ``--trust-list``) plus the user's own anchors (``--trust-anchors``).

A trust list is validated when it loads: every PEM block must be an X.509 certificate (a damaged
block is an error naming its position, never skipped), there must be at least one, and the
certificates past or near their end are listed as warnings (kept: c2pa-rs judges them per
signature, and an expired anchor may still have been valid when a file was signed).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from ..errors import TrustAnchorError, UsageError
from ..limits import REMOTE_MANIFEST_TIMEOUT

SHIPPED = "C2PA-TRUST-LIST.pem"
PEM_BEGIN = "-----BEGIN CERTIFICATE-----"
PEM_END = "-----END CERTIFICATE-----"
EXPIRY_WARNING_DAYS = 90  # an anchor ending within this is worth a refresh
MAX_TRUST_LIST_BYTES = 8 * 1024 * 1024  # the C2PA list is ~100 KiB
TRUST_LIST_TIMEOUT = 6 * REMOTE_MANIFEST_TIMEOUT


def shipped_anchors() -> str:
    return resources.files(__name__).joinpath(SHIPPED).read_text(encoding="ascii")


def _pem_blocks(text: str) -> list[str]:
    """The PEM certificate blocks: the C2PA list has 'Subject' lines between them."""
    blocks, current = [], None
    for raw in text.splitlines():
        line = raw.strip()
        if line == PEM_BEGIN:
            current = [line]
        elif current is not None:
            current.append(line)
            if line == PEM_END:
                blocks.append("\n".join(current) + "\n")
                current = None
    return blocks


def _certificates_only(text: str) -> str:
    return "".join(_pem_blocks(text))


@dataclass(frozen=True)
class Anchor:
    subject: str
    not_before: dt.datetime
    not_after: dt.datetime


@dataclass(frozen=True)
class TrustList:
    source: str  # the file (or "shipped snapshot")
    pem: str  # the certificates only, as handed to c2pa
    anchors: tuple[Anchor, ...]

    def warnings(self, now: dt.datetime | None = None, days: int = EXPIRY_WARNING_DAYS) -> list[str]:
        now = now or dt.datetime.now(dt.timezone.utc)
        soon = now + dt.timedelta(days=days)
        out = []
        for a in self.anchors:
            if a.not_after < now:
                out.append(f"{a.subject}: expired {a.not_after:%Y-%m-%d}")
            elif a.not_after < soon:
                out.append(f"{a.subject}: expires {a.not_after:%Y-%m-%d}, within {days} days")
            elif a.not_before > now:
                out.append(f"{a.subject}: not valid before {a.not_before:%Y-%m-%d}")
        return out

    def summary(self, now: dt.datetime | None = None) -> str:
        notes = self.warnings(now)
        head = f"{self.source}: {len(self.anchors)} certificates"
        return head + (f", {len(notes)} warnings" if notes else "")


def parse_trust_list(text: str, source: str) -> TrustList:
    """Validate the PEM text of a trust list (see the module's note)."""
    from cryptography import x509

    blocks = _pem_blocks(text)
    if not blocks:
        raise TrustAnchorError(f"trust list {source} holds no PEM certificate")
    if text.count(PEM_BEGIN) != len(blocks):
        raise TrustAnchorError(f"trust list {source}: a certificate block is not closed ({PEM_END} missing)")
    anchors = []
    for number, block in enumerate(blocks, 1):
        try:
            cert = x509.load_pem_x509_certificate(block.encode("ascii"))
        except ValueError as exc:
            raise TrustAnchorError(f"trust list {source}: certificate {number} is not valid X.509: {exc}") from exc
        anchors.append(Anchor(cert.subject.rfc4514_string(), cert.not_valid_before_utc, cert.not_valid_after_utc))
    return TrustList(source, "".join(blocks), tuple(anchors))


def _read_text(path: str, what: str) -> str:
    try:
        return Path(path).read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise TrustAnchorError(f"{what} {path} could not be read: {exc}") from exc


def load_trust_list(path: str | None = None) -> TrustList:
    """The user's trust list file, or the shipped snapshot."""
    if path is None:
        return parse_trust_list(shipped_anchors(), "shipped snapshot")
    return parse_trust_list(_read_text(path, "trust list"), path)


def anchors_pem(user_files: Iterable[str] = (), include_shipped: bool = True, trust_list: str | None = None) -> str:
    """The PEM handed to c2pa: the trust list (the user's ``trust_list`` in place of the shipped
    snapshot; neither when ``include_shipped`` is off and no list is named) and the extra anchors."""
    parts = []
    if trust_list is not None:
        parts.append(load_trust_list(trust_list).pem)
    elif include_shipped:
        parts.append(_certificates_only(shipped_anchors()))
    for path in user_files:
        pem = _certificates_only(_read_text(path, "trust anchors"))
        if not pem:
            raise TrustAnchorError(f"trust anchors {path} hold no PEM certificate")
        parts.append(pem)
    return "".join(parts)


def update_trust_list(source: str, dest: str, allow_network: bool) -> TrustList:
    """Fetch (a URL, only with ``allow_network``) or read a trust list, validate it, and replace
    ``dest`` with it in one step (a temporary file renamed over it: a reader never sees half)."""
    if source.startswith(("http://", "https://")):
        if not allow_network:
            raise UsageError(f"{source} is a URL: fetching it needs --allow-network")
        from ..net import FetchError, FetchLimits, fetch

        try:
            body = fetch(source, FetchLimits(TRUST_LIST_TIMEOUT, MAX_TRUST_LIST_BYTES))
        except FetchError as exc:
            raise TrustAnchorError(f"trust list not fetched: {exc}") from exc
        try:
            text = body.decode("ascii")
        except UnicodeDecodeError as exc:
            raise TrustAnchorError(f"trust list {source} is not PEM text: {exc}") from exc
    else:
        text = _read_text(source, "trust list")
    trust = parse_trust_list(text, source)
    target = Path(dest)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".trust-", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(text)
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise TrustAnchorError(f"trust list {dest} could not be written: {exc}") from exc
    return TrustList(dest, trust.pem, trust.anchors)
