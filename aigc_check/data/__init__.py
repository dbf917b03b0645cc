"""Data files shipped with the package: generator fingerprints, source-type vocabulary."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources

from ..errors import DataFileError


@cache
def load(name: str) -> dict:
    try:
        text = resources.files(__name__).joinpath(name).read_text(encoding="utf-8")
        return json.loads(text)
    except (OSError, ValueError) as exc:
        raise DataFileError(f"data file {name} could not be loaded: {exc}") from exc
