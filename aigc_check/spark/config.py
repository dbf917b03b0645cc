"""What a Spark scan is asked to do: its input columns and its configuration.

Apart from ``job`` so that the command line, which takes its option defaults from them, need not
import the job, the arrow batch and the result schema at every start.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..checker import CheckOptions
from ..model import Declared


@dataclass(frozen=True)
class InputColumns:
    """Which input columns hold the URI and the optional declaration, account, post id and posting time."""

    uri: str = "uri"
    declared: str = "declared"
    account: str = "account"
    post_id: str = "post_id"
    posted_at: str = "posted_at"


@dataclass
class SparkScanConfig:
    """What ``aigc-check scan --engine spark`` was asked to do."""

    prefix: str | None = None
    input_table: str | None = None
    output_table: str | None = None
    out_dir: str | None = None
    output_format: str = "parquet"
    overwrite: bool = False
    master: str | None = None
    columns: InputColumns = field(default_factory=InputColumns)
    declared: Declared = Declared.NONE
    options: CheckOptions = field(default_factory=CheckOptions)
    io_threads: int = 8
    partitions: int | None = None
