"""Where a scan's bytes come from: local paths as they are, other storage by ranged reads through fsspec.

A local path (or a ``file:`` URI) goes to the checker as a path, exactly as
``aigc-check check`` would open it.  Any other URI (``s3a://``, ``s3://``,
``oss://``, ``hdfs://``, ``memory://`` ...) is opened through fsspec with a
read-ahead window instead of fsspec's default multi-megabyte block: the first
read fetches ``header_bytes`` in one ranged GET, a read beyond it fetches what
it asks for plus one window (the ``moov`` box at the end of an MP4), and the
whole object is streamed only when C2PA validation hashes it.

Storage latency (tens of milliseconds a GET) dwarfs the check itself (0.1-5
ms), so objects are opened and their header window fetched in a small thread
pool, a bounded number ahead of the check; the checks themselves run one after
another in the calling thread, so the checker needs no locking.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import BinaryIO, TypeAlias
from urllib.parse import unquote, urlsplit

from ..errors import AigcCheckError
from ..source import HEAD_SIZE

# What ``open_all`` yields per object: a local path for the checker to open, an open remote file,
# or the exception that opening raised (reported as that file's result, never raised).
Opened: TypeAlias = str | BinaryIO | Exception


class ObjectStoreError(AigcCheckError):
    """Remote storage cannot be used at all (fsspec or the scheme's driver is not installed)."""


def local_path(uri: str) -> str | None:
    """The local path a URI names (``/a/b``, ``a/b``, ``file:/a/b``, ``file:///a/b``), or None if it is remote."""
    if ":" not in uri:
        return uri  # no scheme: a path (what a scan's walk hands over, for every file), without a parse
    if uri.startswith("file:"):
        parts = urlsplit(uri)
        if parts.netloc not in ("", "localhost"):
            return None
        return unquote(parts.path)  # Spark lists local files as file:/x%20y.jpg
    scheme = urlsplit(uri).scheme
    # "C:\x" on Windows has a one-letter scheme; any real scheme is remote.
    return uri if len(scheme) <= 1 else None


@dataclass(frozen=True)
class ObjectReader:
    """Opens the objects a batch names; one per job, shared by every batch in a worker process.

    ``storage_options`` go to fsspec (credentials, endpoint: ``{"s3": {"endpoint_url": ...}}`` style
    keyword arguments of the scheme's filesystem).
    """

    header_bytes: int = HEAD_SIZE
    io_threads: int = 8
    storage_options: dict = field(default_factory=dict, hash=False, compare=False)

    def open(self, uri: str) -> BinaryIO:
        """An open remote object with its header window already fetched."""
        try:
            import fsspec
        except ImportError as exc:
            raise ObjectStoreError(
                f"reading {uri.split(':', 1)[0]}:// objects needs fsspec: "
                "pip install '.[spark]' in an aigc-check checkout"
            ) from exc
        try:
            fs, path = fsspec.core.url_to_fs(uri, **self.storage_options)
        except (ImportError, ValueError) as exc:  # fsspec names the driver to install ("Install s3fs ...")
            raise ObjectStoreError(f"cannot read {uri}: {exc}") from exc
        f = fs.open(path, "rb", block_size=self.header_bytes, cache_type="readahead")
        try:
            f.read(min(self.header_bytes, HEAD_SIZE))  # the one GET every check needs, made here in the pool
            f.seek(0)
        except BaseException:
            f.close()
            raise
        return f

    def _open_reported(self, uri: str) -> Opened:
        try:
            return self.open(uri)
        except ObjectStoreError:
            raise
        except Exception as exc:  # missing object, denied, network: that file's result, not the batch's
            return exc

    def open_all(self, uris: Iterable[str]) -> Iterator[Opened]:
        """Per URI, in order: its local path, or the opened remote object, or why it could not be opened.

        Remote objects are opened at most ``2 * io_threads`` ahead of the consumer, so a batch of
        thousands of rows never holds thousands of header windows.
        """
        ahead = max(1, 2 * self.io_threads)
        pending: deque[str | Future[Opened]] = deque()
        pool: ThreadPoolExecutor | None = None
        try:
            for uri in uris:
                path = local_path(uri)
                if path is not None:
                    pending.append(path)
                else:
                    if pool is None:
                        pool = ThreadPoolExecutor(max(1, self.io_threads), thread_name_prefix="aigc-open")
                    pending.append(pool.submit(self._open_reported, uri))
                while len(pending) > ahead or (pending and isinstance(pending[0], str)):
                    yield _result(pending.popleft())
            while pending:
                yield _result(pending.popleft())
        finally:
            # The consumer stopped early (or failed): close what was opened for it.
            for item in pending:
                if not isinstance(item, str) and not item.cancel():
                    _close(item)
            if pool is not None:
                pool.shutdown(wait=True)


def _result(item: str | Future[Opened]) -> Opened:
    return item if isinstance(item, str) else item.result()


def _close(future: Future[Opened]) -> None:
    try:
        opened = future.result()
    except Exception:
        return
    if hasattr(opened, "close"):
        opened.close()


LOCAL_ONLY = ObjectReader(io_threads=0)
