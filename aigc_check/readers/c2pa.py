"""C2PA manifest stores through c2pa-python.

The native reader is only called when the container walk saw a manifest
store (JUMBF ``c2pa`` box, PNG ``caBX``, BMFF ``uuid``, ...), or when XMP
points to a remote manifest *and* the user allowed network access.  Remote
fetches and OCSP are off by default; the trust list shipped with the package
(plus the user's anchors) decides whether a signature is ``Trusted``.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading

from ..deadline import ENDS_CHECK
from ..model import C2paSummary, Field, ReadError
from . import MetadataReader, ReadContext

PROVENANCE_KEY = "dcterms:provenance"
_contexts: dict = {}
_lock = threading.Lock()


def _context(anchors_pem: str, allow_network: bool, verify: bool):
    """One native context per process and configuration.

    A context inherited through fork is unusable (c2pa-python), so the cache
    is keyed by process id as well.
    """
    import c2pa

    key = (os.getpid(), hashlib.sha256(anchors_pem.encode()).hexdigest(), allow_network, verify)
    with _lock:
        ctx = _contexts.get(key)
        if ctx is None:
            settings = {
                "verify": {
                    "remote_manifest_fetch": allow_network,
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


def provenance_reference(fields: list[Field]) -> Field | None:
    for f in fields:
        if f.family == "xmp" and f.key == PROVENANCE_KEY and isinstance(f.value, str):
            return f
    return None


class C2paReader(MetadataReader):
    family = "c2pa"

    def read(self, ctx: ReadContext) -> None:
        marker = ctx.container.c2pa
        ref = provenance_reference(ctx.fields)
        summary = C2paSummary(present=marker is not None, verified_hash=ctx.options.verify_hash)
        ctx.extras["c2pa"] = summary
        if ref is not None and ref.value.startswith(("http://", "https://")):
            summary.remote_url = ref.value
        if marker is None and not (summary.remote_url and ctx.options.allow_network):
            return
        location = marker.location if marker else f"remote manifest {summary.remote_url}"
        try:
            store, state, remote = self._read_store(ctx)
        except ENDS_CHECK:
            raise
        except Exception as exc:  # c2pa raises C2paError subclasses; native faults surface as others
            message = str(exc) or type(exc).__name__
            if "ManifestNotFound" in type(exc).__name__ or "ManifestNotFound" in message:
                ctx.errors.append(
                    ReadError(
                        "c2pa-unreadable",
                        "a C2PA marker was found but no manifest store could be read from it",
                        location,
                        fatal=True,
                    )
                )
            else:
                # Fatal: a manifest is there but unreadable, and it may be the label that decides.
                ctx.errors.append(
                    ReadError(
                        "c2pa-unreadable", f"C2PA manifest store could not be read: {message}", location, fatal=True
                    )
                )
            summary.validation_state = "Unreadable"
            return
        if store is None:
            return
        summary.present = True
        summary.validation_state = state
        summary.remote_url = remote or summary.remote_url
        ctx.fields.append(Field(self.family, "manifest_store", store, location))

    def _read_store(self, ctx: ReadContext):
        import c2pa

        o = ctx.options
        context = _context(o.trust_anchors_pem, o.allow_network, o.verify_hash)
        stream = ctx.source.stream()
        reader = c2pa.Reader.try_create(ctx.container.media_type, stream, context=context)
        if reader is None:
            return None, None, None
        with reader:
            store = json.loads(reader.json())
            # Without validation the library says "Invalid" for every manifest; say what happened instead.
            state = reader.get_validation_state() if o.verify_hash else "NotVerified"
            remote = None if reader.is_embedded() else reader.get_remote_url()
        return store, state, remote
