"""C2PA re-signing for ``mark``: never break a manifest silently.

Writing the GB 45438 label into a signed file changes bytes the manifest's hard binding covers, so
the manifest stops validating.  ``mark`` therefore refuses a file with a manifest, unless it has the
platform's signing credentials; then, after writing the label, ``resign`` signs a new manifest
(c2pa-python's ``Builder``; no hand-written JUMBF) that

- takes the original file, with its manifest store, as its **parent ingredient**, so the original
  manifest, and the AI claim in it (``c2pa.created`` with ``digitalSourceType``
  ``trainedAlgorithmicMedia``), stay in the store and visible to ``check``;
- records the edit as a ``c2pa.edited.metadata`` action (a metadata-only change; the aigc-check
  source-type data lists it among the actions that keep an AI parent AI-generated), after the
  ``c2pa.opened`` of the parent, with a description.

The result is read back and checked before it is returned: it must validate (``Valid`` or
``Trusted``) and its active manifest's parent ingredient must be the original's active manifest.
Anything else raises ``ResignError``; nothing half-signed is handed back.
"""

from __future__ import annotations

import io
import json
from typing import Any

from .. import __version__
from ..readers.c2pa import active_manifest, parent_manifest
from .writers import WriteError

VALID_STATES = ("Valid", "Trusted")
DEFAULT_DESCRIPTION = "GB 45438 implicit label: the platform's propagation elements written by aigc-check mark"
PARENT_LABEL = "parent"  # the ingredient's id inside the builder's manifest definition


class ResignError(WriteError):
    """The file could not be re-signed; nothing is written (a ``WriteError``, so ``mark`` treats it
    as any file it cannot rewrite safely).  ``code`` is stable, for the ``mark`` report."""

    code = "c2pa-resign-failed"


def _algorithm(c2pa: Any, alg: str) -> Any:
    try:
        return c2pa.C2paSigningAlg[alg.strip().upper()]
    except KeyError:
        names = ", ".join(a.name.lower() for a in c2pa.C2paSigningAlg)
        raise ResignError(f"unknown C2PA signing algorithm {alg!r} (one of {names})") from None


def _context(c2pa: Any) -> Any:
    # No thumbnail (the pixels did not change), and no network: the original's manifest is validated
    # as it is stored (remote manifests and OCSP are not fetched).  Trust is not decided here: the
    # checker's trust list judges the result.
    return c2pa.Context.from_dict(
        {
            "builder": {"thumbnail": {"enabled": False}},
            "verify": {"ocsp_fetch": False, "remote_manifest_fetch": False, "verify_trust": False},
        }
    )


def _read_store(c2pa: Any, mime: str, data: bytes, context: Any) -> tuple[dict[str, Any], str | None]:
    reader = c2pa.Reader.try_create(mime, io.BytesIO(data), context=context)
    if reader is None:
        raise ResignError("the file carries no C2PA manifest store, so there is nothing to re-sign")
    with reader:
        return json.loads(reader.json()), reader.get_validation_state()


def _manifest_definition(original_store: dict[str, Any], description: str) -> dict[str, Any]:
    title = active_manifest(original_store).get("title")
    definition: dict[str, Any] = {
        "claim_generator_info": [{"name": "aigc-check", "version": __version__}],
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {
                    "actions": [
                        {"action": "c2pa.opened", "parameters": {"ingredientIds": [PARENT_LABEL]}},
                        {"action": "c2pa.edited.metadata", "description": description},
                    ]
                },
            }
        ],
    }
    if isinstance(title, str) and title:
        definition["title"] = title
    return definition


def resign(
    original: bytes,
    marked: bytes,
    mime: str,
    cert_pem: bytes,
    key_pem: bytes,
    alg: str,
    ta_url: str | None = None,
    *,
    description: str = DEFAULT_DESCRIPTION,
) -> bytes:
    """``marked`` (the original with the label written) signed with a new manifest whose parent
    ingredient is ``original`` and its manifest store.

    ``cert_pem``: the signer's certificate chain, leaf first (PEM); ``key_pem``: its private key;
    ``alg``: ``es256``, ``es384``, ``es512``, ``ps256``, ``ps384``, ``ps512`` or ``ed25519``;
    ``ta_url``: an RFC 3161 time-stamp authority (the only network use, and only when given).
    Raises ``ResignError`` when the original has no valid manifest, the credentials are refused, or
    the result does not validate with the original as its parent."""
    import c2pa

    if not cert_pem.strip() or not key_pem.strip():
        raise ResignError("the signing certificate and key must both be given (PEM)")
    algorithm = _algorithm(c2pa, alg)
    context = _context(c2pa)
    try:
        store, state = _read_store(c2pa, mime, original, context)
    except ResignError:
        raise
    except Exception as exc:  # c2pa raises C2paError subclasses; the native side may raise others
        raise ResignError(f"the original's C2PA manifest store could not be read: {exc}") from exc
    original_label = store.get("active_manifest")
    if not original_label:
        raise ResignError("the original's manifest store has no active manifest")
    if state not in VALID_STATES:
        raise ResignError(
            f"the original's C2PA manifest does not validate ({state}): re-signing would hide that it was "
            "already broken"
        )
    try:
        signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(algorithm, cert_pem, key_pem, ta_url))
        with signer:
            builder = c2pa.Builder(_manifest_definition(store, description), context)
            with builder:
                builder.add_ingredient(
                    {
                        "title": str(active_manifest(store).get("title") or "original"),
                        "relationship": "parentOf",
                        "label": PARENT_LABEL,
                    },
                    mime,
                    io.BytesIO(original),
                )
                out = io.BytesIO()
                builder.sign(signer, mime, io.BytesIO(marked), out)
    except Exception as exc:
        raise ResignError(f"C2PA signing failed: {exc}") from exc
    signed = out.getvalue()
    _verify(c2pa, mime, signed, str(original_label), context)
    return signed


def _verify(c2pa: Any, mime: str, signed: bytes, original_label: str, context: Any) -> None:
    """The re-signed file validates and its active manifest's parent is the original's."""
    try:
        store, state = _read_store(c2pa, mime, signed, context)
    except ResignError:
        raise ResignError("the re-signed file carries no readable manifest store") from None
    except Exception as exc:
        raise ResignError(f"the re-signed file's manifest store could not be read: {exc}") from exc
    if state not in VALID_STATES:
        raise ResignError(f"the re-signed file does not validate ({state})")
    parent = parent_manifest(store, active_manifest(store))
    if parent != original_label:
        raise ResignError(
            f"the re-signed manifest's parent ingredient is {parent!r}, not the original's manifest {original_label!r}"
        )
