"""What the Spark tests need: Java, pyspark and pyarrow before they start, each missing one a skip
with its reason (``.ci/run`` installs all three); and the small local session they run on."""

from __future__ import annotations

import os
import shutil

import pytest


def java() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and os.access(os.path.join(home, "bin", "java"), os.X_OK):
        return os.path.join(home, "bin", "java")
    return shutil.which("java")


def require_spark(*, module_level: bool) -> None:
    """Skip (the whole module when ``module_level``) where Spark cannot run here."""
    if java() is None:
        pytest.skip(
            "Spark needs Java: no java on PATH or in JAVA_HOME (.ci/run installs openjdk-17-jre-headless)",
            allow_module_level=module_level,
        )
    pytest.importorskip("pyspark", reason="pyspark is not installed: pip install 'aigc-check[spark]'")
    pytest.importorskip("pyarrow", reason="pyarrow is not installed: pip install 'aigc-check[spark]'")


def small_session(name: str, warehouse: str, **conf: str):
    """A small local Spark session for a test module (two cores, little memory, two shuffle
    partitions, its warehouse in ``warehouse``), with ``conf`` on top; the caller stops it."""
    from aigc_check.spark import local_session

    session = local_session(
        "local[2]",
        name,
        {
            "spark.driver.memory": "512m",
            "spark.sql.shuffle.partitions": "2",
            "spark.sql.warehouse.dir": warehouse,
            **conf,
        },
    )
    session.sparkContext.setLogLevel("ERROR")
    return session
