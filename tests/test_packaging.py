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
    assert b"aigc-check = aigc_check._entry:main" in entry_points


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


def test_public_names_import_on_first_use():
    assert sorted(aigc_check.__all__) == sorted([*aigc_check._EXPORTS, "__version__"])
    for name in aigc_check._EXPORTS:
        assert getattr(aigc_check, name) is not None
    proc = subprocess.run(
        [sys.executable, "-c", "import sys, aigc_check; print('aigc_check.checker' in sys.modules)"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.stdout.strip() == "False"  # importing the package imports nothing else


def test_ctrl_c_while_the_command_imports_is_one_line(monkeypatch, capsys):
    import builtins

    from aigc_check import _entry

    real_import = builtins.__import__

    def interrupted(name, *args, **kwargs):
        if name == "cli" or name.endswith(".cli"):
            raise KeyboardInterrupt
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", interrupted)
    monkeypatch.delitem(sys.modules, "aigc_check.cli", raising=False)
    assert _entry.main() == 130
    assert capsys.readouterr().err == "aigc-check: interrupted while starting\n"
