"""Trust anchors for C2PA signatures: the shipped C2PA trust list plus the user's own."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path

from ..errors import TrustAnchorError

SHIPPED = "C2PA-TRUST-LIST.pem"
PEM_BEGIN = "-----BEGIN CERTIFICATE-----"


def shipped_anchors() -> str:
    return resources.files(__name__).joinpath(SHIPPED).read_text(encoding="ascii")


def _certificates_only(text: str) -> str:
    """Keep only the PEM blocks: the shipped list has 'Subject' lines between them."""
    out, inside = [], False
    for line in text.splitlines():
        if line.strip() == PEM_BEGIN:
            inside = True
        if inside:
            out.append(line.strip())
        if line.strip() == "-----END CERTIFICATE-----":
            inside = False
    return "\n".join(out) + ("\n" if out else "")


def anchors_pem(user_files: Iterable[str] = (), include_shipped: bool = True) -> str:
    parts = [_certificates_only(shipped_anchors())] if include_shipped else []
    for path in user_files:
        try:
            text = Path(path).read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise TrustAnchorError(f"trust anchors {path} could not be read: {exc}") from exc
        pem = _certificates_only(text)
        if not pem:
            raise TrustAnchorError(f"trust anchors {path} hold no PEM certificate")
        parts.append(pem)
    return "".join(parts)
