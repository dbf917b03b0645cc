"""The distribution: one top-level package, one version, the console script and ``python -m``."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT

import aigc_check


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(out), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if proc.returncode != 0 and "Could not find a version that satisfies" in proc.stderr:
        pytest.skip(f"the build backend could not be installed here: {proc.stderr.strip()[-300:]}")
    assert proc.returncode == 0, proc.stderr
    (built,) = out.glob("aigc_check-*.whl")
    return built


def test_wheel_installs_only_the_package(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"aigc_check"}
    assert f"aigc_check-{aigc_check.__version__}.dist-info/licenses/LICENSE" in names
    for data in (
        "aigc_check/policies/cn.json",
        "aigc_check/data/generators.json",
        "aigc_check/trust/C2PA-TRUST-LIST.pem",
        "aigc_check/service/static/page.js",
    ):
        assert data in names
    entry_points = zipfile.ZipFile(wheel).read(f"aigc_check-{aigc_check.__version__}.dist-info/entry_points.txt")
    assert b"aigc-check = aigc_check.cli:main" in entry_points


def test_version_has_one_source():
    from importlib.metadata import version

    assert version("aigc-check") == aigc_check.__version__
    for command in (
        [sys.executable, "-m", "aigc_check", "--version"],
        [str(Path(sys.executable).with_name("aigc-check")), "--version"],
    ):
        proc = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.strip() == f"aigc-check, version {aigc_check.__version__}"
