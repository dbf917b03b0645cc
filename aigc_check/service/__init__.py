"""``aigc-check serve``: the checker as an HTTP service for upload gateways and creators.

Modules, one concern each:

- ``config``   ServeConfig: every limit and option, with its flag and env var
- ``errors``   typed service errors (HTTP status + stable code) and the JSON error body
- ``pool``     a pool of checker processes; a stuck check is killed and its worker replaced
- ``upload``   streams a request body (raw or multipart) into a nameless spool (memfd or unlinked file)
- ``reference`` check by reference: ``{"path"}`` under ``--allow-root``, ``{"uri"}`` under ``--allow-uri-prefix``
- ``allocator`` keeps the event loop's body buffers in the heap (glibc ``mallopt``)
- ``metrics``  Prometheus counters and histograms
- ``app``      the Starlette routes (one ``Route`` each in ``create_app``'s list)
- ``access_log`` the ``--access-log`` lines
- ``transport`` the connection limits Uvicorn's httptools protocol lacks (header size and deadline, connections)
- ``server``   runs Uvicorn on a bound socket, with those limits and the open-file limit they need
- ``jsonl``    the dependency-free ``check --stdin-jsonl`` loop

Only ``jsonl``, ``config`` and ``errors`` work with the base install; the rest need the
``serve`` extra, which :func:`require_serve_stack` checks with a clear message.
"""

from __future__ import annotations

from .errors import ServeDependencyError

SERVE_MODULES = ("starlette", "uvicorn", "python_multipart", "prometheus_client")
# The package is on no registry yet: install the extra from a checkout or from a built wheel.
INSTALL_HINT = (
    "in an aigc-check checkout: pip install '.[serve]' "
    "(or from a built wheel: pip install 'aigc_check-VERSION-py3-none-any.whl[serve]')"
)


def require_serve_stack() -> None:
    """Fail with the pip command to run when the ``serve`` extra is not installed."""
    import importlib.util

    missing = [m for m in SERVE_MODULES if importlib.util.find_spec(m) is None]
    if missing:
        raise ServeDependencyError(
            f"'aigc-check serve' needs the serve extra ({', '.join(missing)} not installed): {INSTALL_HINT}"
        )
