"""``ScanConfig``, what a scan is asked to do, apart from the runner, so that the command line
can take its defaults for its options without importing the process pool (``multiprocessing``,
``concurrent.futures``) and the outputs, which a ``check`` has no use for."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..model import Declared
from ..options import CheckOptions


@dataclass
class ScanConfig:
    paths: tuple = ()
    from_list: str | None = None
    out_dir: str = "scan-report"
    declared: Declared = Declared.NONE  # for every file the sidecar does not name
    declarations: str | None = None
    options: CheckOptions = field(default_factory=CheckOptions)
    jobs: int = 0  # 0: every core this process may use
    resume: bool = False
    overwrite: bool = False
    chunk_size: int = 128  # files a worker is handed at once: larger chunks cost the parent less a file
    html: bool = True
    thumbnails: int = 200
    progress: str = "auto"
    progress_interval: float = 5.0
    # --similar-index: the known-content index read (when it exists) and written by the near-duplicate pass.
    similar_index: str | None = None

    def worker_count(self) -> int:
        if self.jobs > 0:
            return self.jobs
        try:
            return len(os.sched_getaffinity(0))
        except AttributeError:
            return os.cpu_count() or 1
