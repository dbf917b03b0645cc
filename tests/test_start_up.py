"""A one-file ``aigc-check check`` starts lean: in a fresh interpreter it imports neither the
scan's process pool and outputs, nor the service's settings, mutagen, piexif or OpenSSL's hashes,
none of which a photo without tags needs, and only the walkers up to the file's own; the commands
and names that need them still find them.  The fingerprint table's field globs are compared
without regexes where they are plain names, as ``fnmatch`` would compare them."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from fnmatch import fnmatchcase
from pathlib import Path

import pytest
from PIL import Image

from aigc_check.signatures.fingerprints import FingerprintTable, glob_matcher

TABLE = FingerprintTable.load()

ROOT = Path(__file__).resolve().parent.parent

# Each of these costs a few milliseconds of every start, and a check of a plain photo uses none.
NOT_FOR_A_PHOTO = (
    "aigc_check.scan.runner",
    "aigc_check.scan.outputs",
    "aigc_check.scan.batch",
    "concurrent.futures.process",
    "multiprocessing",
    "aigc_check.cli_serve",
    "aigc_check.service.config",
    "mutagen",
    "piexif",
    "_hashlib",
)


def _fresh(code: str, *args: str) -> str:
    answer = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert answer.returncode == 0, answer.stderr
    return answer.stdout


def _imported_by_check(path: Path) -> dict:
    code = (
        "import json, sys\n"
        "from aigc_check.cli import main\n"
        "status = main(['check', '--format', 'json', sys.argv[1]])\n"
        "print(json.dumps({'status': status, 'modules': sorted(sys.modules)}))\n"
    )
    report, modules = _fresh(code, str(path)).splitlines()  # the check's JSON line, then ours
    return json.loads(modules) | {"report": json.loads(report)}


def test_a_check_of_a_plain_photo_imports_none_of_what_it_does_not_need(tmp_path):
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (32, 24), (200, 120, 40)).save(photo, "JPEG")
    run = _imported_by_check(photo)
    assert run["status"] == 0 and run["report"]["verdict"] == "compliant"
    loaded = set(run["modules"])
    assert {"aigc_check.checker", "aigc_check.formats.jpeg", "aigc_check.scan.config"} <= loaded
    assert not [m for m in NOT_FOR_A_PHOTO if m in loaded or any(n.startswith(m + ".") for n in loaded)]


def test_the_files_that_need_them_still_get_them():
    """An MP3's ID3 tag imports mutagen, a JPEG's EXIF piexif, on first use, and are read as before."""
    mp3 = next(p for p in sorted((ROOT / "fixtures" / "files").rglob("*.mp3")) if p.stat().st_size > 1000)
    run = _imported_by_check(mp3)
    assert "mutagen.id3" in run["modules"]
    assert any(f["key"].startswith("id3") or "id3" in f["location"].lower() for f in _evidence(run)), mp3
    camera = next(p for p in sorted((ROOT / "fixtures" / "files").rglob("*.jpg")) if _has_exif(p))
    assert "piexif" in _imported_by_check(camera)["modules"]


def _evidence(run: dict) -> list[dict]:
    return run["report"]["evidence"]


def _has_exif(path: Path) -> bool:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fixtures include damaged EXIF, on purpose
        try:
            with Image.open(path) as image:
                return bool(image.getexif())
        except Exception:
            return False


def test_serve_is_listed_and_runs_though_imported_only_when_asked_for():
    code = (
        "import sys\n"
        "from aigc_check.cli import cli, main\n"
        "import click\n"
        "ctx = click.Context(cli, info_name='aigc-check')\n"
        "print(','.join(cli.list_commands(ctx)))\n"
        "print('aigc_check.cli_serve' in sys.modules)\n"
        "main(['serve', '--help'])\n"
        "print('aigc_check.cli_serve' in sys.modules)\n"
    )
    lines = _fresh(code).splitlines()
    commands = lines[0].split(",")
    assert "serve" in commands and commands == sorted(commands) and {"check", "scan", "mark"} <= set(commands)
    assert lines[1] == "False"
    assert any("--allow-root" in line for line in lines[2:-1])  # serve's own options, in its help
    assert lines[-1] == "True"


def test_the_scan_package_names_resolve_to_their_modules():
    from aigc_check import scan
    from aigc_check.scan import batch, config, runner

    assert scan.ScanConfig is config.ScanConfig is runner.ScanConfig
    assert scan.run_scan is runner.run_scan and scan.check_batch is batch.check_batch
    assert set(scan.__all__) == set(scan._EXPORTS)
    try:
        scan.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("an unknown name must raise AttributeError")


_IDENTIFY = """
import json, random, sys, threading
from aigc_check import formats
paths = sys.argv[2:]
heads = {p: open(p, "rb").read(8192) for p in paths}
if sys.argv[1] == "all-first":
    formats.handlers()
elif sys.argv[1] == "threads":
    found = {}
    def run(ps):
        for p in ps:
            h = formats.identify(heads[p])
            found[p] = h.name if h else None
    parts = [paths[i::4] for i in range(4)]
    threads = [threading.Thread(target=run, args=(part,)) for part in parts]
    for t in threads: t.start()
    for t in threads: t.join()
    print(json.dumps(found))
    sys.exit()
order = list(paths)
random.Random(int(sys.argv[1]) if sys.argv[1].isdigit() else 0).shuffle(order)
imported, found = [], {}
for p in order:
    h = formats.identify(heads[p])  # as the walkers are imported: the answer of that moment
    found[p] = h.name if h else None
    imported.append(sorted(m for m in sys.modules if m.startswith("aigc_check.formats.")))
print(json.dumps({"found": found, "first_import": imported[0], "first": order[0]}))
"""


def _identified(mode: str, paths: list[Path]) -> dict:
    return json.loads(_fresh(_IDENTIFY, mode, *map(str, paths)).splitlines()[-1])


def test_walkers_are_imported_as_needed_and_tell_every_file_as_all_of_them_would():
    paths = sorted(p for p in (ROOT / "fixtures" / "files").rglob("*") if p.is_file())
    assert len(paths) > 200
    every = _identified("all-first", paths)["found"]
    assert len(set(every.values())) > 15  # the fixtures cover nearly every walker, and some no walker takes
    for seed in ("1", "2"):
        assert _identified(seed, paths)["found"] == every, seed
    assert _identified("threads", paths) == every


def test_a_photo_imports_only_the_jpeg_walker(tmp_path):
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (8, 8)).save(photo, "JPEG")
    run = _identified("0", [photo])
    assert run["found"] == {str(photo): "jpeg"}
    from aigc_check import formats

    walkers = {m.rpartition(".")[2] for m in run["first_import"]} & set(formats._MODULES)
    assert walkers == {"jpeg"}  # its helpers (irb) come with it; no other walker does


def test_every_walker_module_registers_in_the_order_listed():
    from aigc_check import formats

    names = [h.name for h in formats.handlers()]
    modules = [h.accept.__module__.rpartition(".")[2] for h in formats.handlers()]
    assert modules == list(formats._MODULES)
    assert names[:2] == ["jpeg", "png"] and len(names) == len(set(names))


GLOBS = ["text/parameters", "comment/*", "*/videoai", "id3/TXXX:*", "a?c", "[ab]x", "x[!a]", "*", "", "a.b", "pre*fix"]
NAMES = ["text/parameters", "text/parameters2", "comment/", "comment/x\ny", "mp4/videoai", "videoai", "id3/TXXX:"]
NAMES += ["abc", "a/c", "ax", "bx", "cx", "xa", "xb", "", "a.b", "axb", "prefix", "pre-x-fix", "Text/Parameters"]


@pytest.mark.parametrize("glob", GLOBS + [g for _, g, _ in TABLE._globs])
def test_a_glob_matches_the_names_fnmatch_matches(glob):
    matches = glob_matcher(glob)
    for name in NAMES + [g for _, g, _ in TABLE._globs]:
        assert matches(name) is fnmatchcase(name, glob), (glob, name)


def test_a_walker_imported_again_registers_its_format_once():
    """A module run twice (reloaded, as a first import cut short would be tried again) has its
    format once, as the module's latest handler, in the walkers' order (in a fresh interpreter: the
    reload stays out of the other tests)."""
    code = (
        "import importlib\n"
        "from aigc_check import formats\n"
        "from aigc_check.formats import png\n"
        "before = [h.name for h in formats.handlers()]\n"
        "png = importlib.reload(png)\n"
        "assert [h.name for h in formats._registered[png.__name__]] == ['png']\n"
        "assert [h.name for h in formats.handlers()] == before\n"
        "assert [h.walk for h in formats.handlers() if h.name == 'png'] == [png.walk]\n"
        "print('ok')\n"
    )
    assert _fresh(code).strip() == "ok"


def test_a_step_of_the_walker_loading_cut_short_is_done_again():
    """A time limit that fires while ``identify`` adds a walker's handler: that call ends with the
    error, the next one finds the format, and the list holds each format once, in order."""
    code = (
        "from aigc_check import formats\n"
        "from aigc_check.deadline import TimeLimitError\n"
        "real, calls = formats._rebuild, []\n"
        "def cut_short(imported):\n"
        "    calls.append(imported)\n"
        "    real(imported)\n"
        "    if len(calls) == 3:\n"
        "        raise TimeLimitError('the check took longer than the 10 s limit')\n"
        "formats._rebuild = cut_short\n"
        "webp = b'RIFF\\x20\\x00\\x00\\x00WEBPVP8 ' + bytes(32)\n"
        "try:\n"
        "    formats.identify(webp)\n"
        "except TimeLimitError:\n"
        "    pass\n"
        "else:\n"
        "    raise AssertionError('the step was not cut short')\n"
        "assert formats.identify(webp).name == 'webp', formats.identify(webp)\n"
        "names = [h.name for h in formats.handlers()]\n"
        "assert len(names) == len(set(names)) == len(formats._MODULES)\n"
        "assert [h.accept.__module__.rpartition('.')[2] for h in formats.handlers()] == list(formats._MODULES)\n"
        "print(calls[:4])\n"
    )
    assert _fresh(code).strip() == "[1, 2, 3, 3]"  # the third step, cut short, done again


def test_a_handler_registered_by_another_module_is_tested_after_every_walker():
    code = (
        "import types\n"
        "from aigc_check import formats\n"
        "plugin = types.ModuleType('plugin_xyz')\n"
        "exec('def accept(head):\\n    return head.startswith(b\"XYZF\")\\n'\n"
        "     'def walk(src, container):\\n    pass\\n', plugin.__dict__)\n"
        "plugin.__dict__['__name__'] = 'plugin_xyz'\n"
        "plugin.accept.__module__ = 'plugin_xyz'\n"
        "formats.register(formats.FormatHandler('xyz', 'application/x-xyz', plugin.accept, plugin.walk))\n"
        "assert formats.identify(b'XYZF' + bytes(16)).name == 'xyz'\n"
        "names = [h.name for h in formats.handlers()]\n"
        "assert names[-1] == 'xyz' and names[:-1] == [h.name for h in formats.handlers()][:-1]\n"
        "assert formats.identify(b'\\xff\\xd8\\xff\\xe0' + bytes(16)).name == 'jpeg'\n"
        "print(len(names))\n"
    )
    from aigc_check import formats

    assert int(_fresh(code).strip()) == len(formats._MODULES) + 1


def test_a_service_worker_imports_every_walker_before_it_says_it_is_ready():
    code = (
        "import sys\n"
        "from aigc_check import formats\n"
        "from aigc_check.service.pool import warm_up_walkers\n"
        "warm_up_walkers()\n"
        "missing = [m for m in formats._MODULES if f'aigc_check.formats.{m}' not in sys.modules]\n"
        "print(missing, 'mutagen.id3' in sys.modules, len(formats.handlers()))\n"
    )
    from aigc_check import formats

    assert _fresh(code).strip() == f"[] True {len(formats._MODULES)}"
