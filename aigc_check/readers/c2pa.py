"""C2PA manifest stores through c2pa-python.

The native reader is only called when the container walk saw a manifest
store (JUMBF ``c2pa`` box, PNG ``caBX``, BMFF ``uuid``, ...), or when XMP
points to a remote manifest *and* the user allowed network access.  Remote
fetches and OCSP are off by default; a remote manifest is fetched here, within
bounds (``remote_manifest.py``), never by the native library; the trust list
shipped with the package (or the user's refreshed copy, plus the user's
anchors) decides whether a signature is ``Trusted``.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable
from typing import Any

from ..deadline import ENDS_CHECK
from ..json_lines import parse_json
from ..model import Block, C2paSummary, Field, ReaderOutput, ReadError
from ..net import FetchError, FetchLimits
from . import MetadataReader, PartialRead, ReadContext
from .remote_manifest import RemoteManifestCache
from .xmp import XmpReader

PROVENANCE_KEY = "dcterms:provenance"
# An XMP packet is parsed for the reference only when it holds the word (UTF-8, or UTF-16 either way).
_PROVENANCE_MARKS = (b"provenance", "provenanc".encode("utf-16-le"))
_contexts: dict[tuple[int, str, bool, bool], Any] = {}  # a handful: one per configuration
_lock = threading.Lock()


def _context(anchors_pem: str, allow_network: bool, verify: bool) -> Any:
    """One native context per process and configuration.

    A context inherited through fork is unusable (c2pa-python), so the cache
    is keyed by process id as well.
    """
    import c2pa

    # Keyed by the PEM text itself, not a digest of it: a str caches its hash, so a lookup by the
    # options' one string is cheap, where a digest of its ~35 KB was paid again by every signed file.
    key = (os.getpid(), anchors_pem, allow_network, verify)
    with _lock:
        ctx = _contexts.get(key)
        if ctx is None:
            settings: dict[str, Any] = {
                "verify": {
                    # Remote manifests are fetched by RemoteManifestCache, within its bounds.
                    "remote_manifest_fetch": False,
                    "ocsp_fetch": allow_network,
                    "verify_after_reading": verify,
                    "verify_trust": True,
                },
            }
            if anchors_pem:
                settings["trust"] = {"trust_anchors": anchors_pem}
            ctx = c2pa.Context.from_dict(settings)
            _contexts[key] = ctx
        return ctx


def provenance_reference(blocks: Iterable[Block]) -> str | None:
    """The first XMP ``dcterms:provenance`` value: where the manifest store is said to be
    (a URL for a remote one, a ``jumbf=`` URI for an embedded one)."""
    for block in blocks:
        if block.kind != "xmp" or not any(mark in block.data for mark in _PROVENANCE_MARKS):
            continue
        try:
            fields = list(XmpReader().read_block(block))
        except ENDS_CHECK:
            raise
        except PartialRead as partial:
            fields = partial.fields
        except Exception:  # the XMP reader reports the damage; here the packet only holds no reference
            continue
        for f in fields:
            if f.key == PROVENANCE_KEY and isinstance(f.value, str):
                return f.value
    return None


def store_failures(store: dict[str, Any]) -> list[dict[str, Any]]:
    """The active manifest's validation failures, each (code, url) once."""
    results = (store.get("validation_results") or {}).get("activeManifest") or {}
    seen, out = set(), []
    for item in list(results.get("failure") or []) + list(store.get("validation_status") or []):
        key = (item.get("code"), item.get("url"))
        if key not in seen:
            seen.add(key)
            out.append(item)
    return out


def active_manifest(store: dict[str, Any]) -> dict[str, Any]:
    manifest = (store.get("manifests") or {}).get(store.get("active_manifest")) or {}
    return manifest if isinstance(manifest, dict) else {}


def claim_generator(manifest: dict[str, Any]) -> str:
    info = manifest.get("claim_generator_info") or []
    if isinstance(info, list) and info and isinstance(info[0], dict) and info[0].get("name"):
        return str(info[0]["name"])
    return str(manifest.get("claim_generator") or "")


def parent_manifest(store: dict[str, Any], manifest: dict[str, Any]) -> str | None:
    """The active manifest of ``manifest``'s parent ingredient (``relationship: parentOf``), when the
    store holds it: the manifest this one was made from (a re-sign, an edit)."""
    manifests = store.get("manifests") or {}
    for ingredient in manifest.get("ingredients") or []:
        if isinstance(ingredient, dict) and ingredient.get("relationship") == "parentOf":
            label = ingredient.get("active_manifest")
            if isinstance(label, str) and label in manifests:
                return label
    return None


def action_names(manifest: dict[str, Any]) -> tuple[str, ...]:
    """The names of the actions of ``manifest``'s ``c2pa.actions`` assertions, in order."""
    names = []
    for assertion in manifest.get("assertions") or []:
        if isinstance(assertion, dict) and str(assertion.get("label", "")).startswith("c2pa.actions"):
            data = assertion.get("data") or {}
            actions = data.get("actions") if isinstance(data, dict) else None
            for action in actions if isinstance(actions, list) else []:
                if isinstance(action, dict) and action.get("action"):
                    names.append(str(action["action"]))
    return tuple(names)


def signer(manifest: dict[str, Any]) -> str | None:
    sig = manifest.get("signature_info") or {}
    return " / ".join(x for x in (sig.get("issuer"), sig.get("common_name")) if x) or None


# The output for a file with neither a manifest store marker nor a remote reference: immutable,
# so one per hash-verification setting is shared by every such file, holding the summary every
# other result without a manifest store holds too (``C2paSummary.absent``).
_NO_MANIFEST = {verified: ReaderOutput(c2pa=C2paSummary.absent(verified)) for verified in (True, False)}


class C2paReader(MetadataReader):
    family = "c2pa"

    def __init__(self) -> None:
        # One per checker: a scan's worker fetches a remote manifest once for the whole scan.
        self.remote_manifests = RemoteManifestCache()

    def extract(self, ctx: ReadContext) -> ReaderOutput:
        marker = ctx.container.c2pa
        verified = ctx.options.verify_hash
        reference = provenance_reference(ctx.container.blocks)
        remote_url = reference if reference is not None and reference.startswith(("http://", "https://")) else None
        if marker is None and remote_url is None:
            return _NO_MANIFEST[verified]  # the common case
        absent = C2paSummary(present=marker is not None, verified_hash=verified, remote_url=remote_url)
        if marker is None and not (remote_url and ctx.options.allow_network):
            return ReaderOutput(c2pa=absent)
        location = marker.location if marker else f"remote manifest {remote_url}"
        manifest_data: bytes | None = None
        if marker is None and remote_url is not None:
            try:
                manifest_data = self.remote_manifests.get(
                    remote_url, FetchLimits(ctx.options.remote_timeout, ctx.options.remote_max_bytes)
                )
            except FetchError as exc:
                # Not fatal: the file carries no manifest of its own; the verdict rests on what it does carry,
                # and the c2pa-remote-manifest finding says the referenced one was not read.
                error = ReadError(f"c2pa-remote-{exc.code}", f"remote C2PA manifest not fetched: {exc}", location)
                return ReaderOutput(errors=[error], c2pa=absent)
        try:
            store, state, remote = self._read_store(ctx, manifest_data)
        except ENDS_CHECK:
            raise
        except Exception as exc:  # c2pa raises C2paError subclasses; native faults surface as others
            message = str(exc) or type(exc).__name__
            if "ManifestNotFound" in type(exc).__name__ or "ManifestNotFound" in message:
                text = "a C2PA marker was found but no manifest store could be read from it"
            else:
                text = f"C2PA manifest store could not be read: {message}"
            # Fatal: a manifest is there but unreadable, and it may be the label that decides.
            error = ReadError("c2pa-unreadable", text, location, fatal=True)
            return ReaderOutput(
                errors=[error],
                c2pa=C2paSummary(
                    present=absent.present,
                    validation_state="Unreadable",
                    verified_hash=verified,
                    remote_url=remote_url,
                ),
            )
        if store is None:
            return ReaderOutput(c2pa=absent)
        manifest = active_manifest(store)
        summary = C2paSummary(
            present=True,
            validation_state=state,
            verified_hash=verified,
            remote_url=remote or remote_url,
            signer=signer(manifest),
            claim_generator=claim_generator(manifest) or None,
            failure_codes=tuple(sorted({str(f.get("code")) for f in store_failures(store)})),
            active_manifest=str(store["active_manifest"]) if store.get("active_manifest") else None,
            parent_manifest=parent_manifest(store, manifest),
            actions=action_names(manifest),
        )
        return ReaderOutput([Field(self.family, "manifest_store", store, location)], c2pa=summary)

    def _read_store(
        self, ctx: ReadContext, manifest_data: bytes | None
    ) -> tuple[dict[str, Any] | None, str | None, str | None]:
        import c2pa

        o = ctx.options
        context = _context(o.trust_anchors_pem, o.allow_network, o.verify_hash)
        stream = ctx.source.stream()
        mime = ctx.container.media_type.lower()
        if manifest_data is not None:  # a fetched remote store, validated against this file's bytes
            with c2pa.Reader(mime, stream, manifest_data=manifest_data, context=context) as remote_reader:
                store: dict[str, Any] = parse_json(remote_reader.json())
                remote_state: str | None = remote_reader.get_validation_state() if o.verify_hash else "NotVerified"
            return store, remote_state, None
        reader = c2pa.Reader.try_create(mime, stream, context=context)
        if reader is None:
            return None, None, None
        with reader:
            # orjson's value of the store's text, the standard parser's where they could differ: a
            # twentieth of a signed file's check (about 0.1 ms) went to parsing a store of ~10 KB.
            store = parse_json(reader.json())
            # Without validation the library says "Invalid" for every manifest; say what happened instead.
            # The state is the store's own ``validation_state``, read here: ``get_validation_state``
            # returns that same key but parses the whole store's JSON again to get it.
            state: str | None = store.get("validation_state") if o.verify_hash else "NotVerified"
            remote: str | None = None if reader.is_embedded() else reader.get_remote_url()
        return store, state, remote
