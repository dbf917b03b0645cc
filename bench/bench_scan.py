"""Throughput and memory of ``aigc-check scan`` on a generated folder, beside ``exiftool -json -r``.

    python bench/bench_scan.py [--files 20000] [--large 100000] [--jobs 2] [--work /tmp/aigc-bench]

Makes a folder of ``--files`` mixed files (plain JPEG/PNG, camera EXIF, A1111
and ComfyUI generator chunks, GB 45438 labels, ~1% C2PA-signed copies, every
fixture, ~3% non-media), runs, on the same warm folder, ``exiftool -json -r``
and ``aigc-check scan --jobs N`` (report.html included), and prints files/s
for both and their ratio.  Then grows the folder to ``--large`` files and
scans again, to compare peak memory.  Peak memory is the largest sum of RSS
over the scan's whole process tree (parent + workers), sampled from /proc
every 20 ms.  Not a test: run it by hand (exiftool: Debian's
libimage-exiftool-perl).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "files"
VARIANTS = 40  # distinct generated images per kind; files cycle through them

AIGC = {
    "Label": "1",
    "ContentProducer": "001191110102MACQD9K64010000",
    "ProduceID": "",
    "ReservedCode1": "",
    "ContentPropagator": "",
    "PropagateID": "",
    "ReservedCode2": "",
}
A1111 = (
    "a lighthouse on a cliff at dusk, oil painting\nNegative prompt: blurry\nSteps: 20, Sampler: Euler a, "
    "CFG scale: 7, Seed: {seed}, Size: 96x96, Model: sd_xl_base_1.0"
)


def _image(rng: random.Random, mode: str = "RGB"):
    from PIL import Image

    img = Image.new(mode, (96, 96), tuple(rng.randrange(256) for _ in range(len(mode))))
    img.putdata([tuple(rng.randrange(256) for _ in range(len(mode))) for _ in range(96 * 96 // 16)] * 16)
    return img


def templates(seed: int = 7) -> dict[str, list[bytes]]:
    """The file contents the folder is made of, by kind."""
    import piexif
    from PIL import PngImagePlugin

    rng = random.Random(seed)
    kinds: dict[str, list[bytes]] = {
        k: [] for k in ("plain-jpeg", "plain-png", "camera-exif", "generator-png", "gb45438-png")
    }
    for i in range(VARIANTS):
        img = _image(rng)
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=85)
        kinds["plain-jpeg"].append(buf.getvalue())
        buf = io.BytesIO()
        img.save(buf, "PNG")
        kinds["plain-png"].append(buf.getvalue())
        exif = piexif.dump(
            {
                "0th": {piexif.ImageIFD.Make: b"Canon", piexif.ImageIFD.Model: f"EOS R{i % 8}".encode()},
                "Exif": {
                    piexif.ExifIFD.DateTimeOriginal: b"2025:05:01 10:00:00",
                    piexif.ExifIFD.ExposureTime: (1, 100 + i),
                    piexif.ExifIFD.FNumber: (28, 10),
                },
            }
        )
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=85, exif=exif)
        kinds["camera-exif"].append(buf.getvalue())
        info = PngImagePlugin.PngInfo()
        if i % 2:
            info.add_text("parameters", A1111.format(seed=rng.randrange(10**9)))
        else:
            info.add_text("prompt", json.dumps({"3": {"class_type": "KSampler", "inputs": {"seed": i}}}))
            info.add_text("workflow", json.dumps({"nodes": [{"id": 3, "type": "KSampler"}], "links": []}))
        buf = io.BytesIO()
        img.save(buf, "PNG", pnginfo=info)
        kinds["generator-png"].append(buf.getvalue())
        info = PngImagePlugin.PngInfo()
        info.add_text("AIGC", json.dumps(dict(AIGC, ProduceID=f"bench-{i}"), separators=(",", ":")))
        buf = io.BytesIO()
        img.save(buf, "PNG", pnginfo=info)
        kinds["gb45438-png"].append(buf.getvalue())
    fixtures = sorted(FIXTURES.iterdir())
    kinds["c2pa"] = [p.read_bytes() for p in fixtures if p.name.startswith("c2pa-")]
    kinds["fixture"] = [p.read_bytes() for p in fixtures if not p.name.startswith("c2pa-")]
    kinds["not-media"] = [b"post text, not an image\n" * (i + 1) for i in range(5)] + [b'{"id": 1}\n']
    return kinds


# Share of each kind in the folder.
MIX = [
    ("plain-jpeg", 20),
    ("plain-png", 14),
    ("camera-exif", 20),
    ("generator-png", 14),
    ("gb45438-png", 10),
    ("fixture", 18),
    ("c2pa", 1),
    ("not-media", 3),
]
PNG = b"\x89PNG"
SUFFIX = {"plain-jpeg": ".jpg", "camera-exif": ".jpg", "not-media": ".txt"}


def make_folder(folder: Path, start: int, stop: int, kinds: dict[str, list[bytes]]) -> None:
    """Files numbered start..stop-1, 500 to a folder, the kind chosen by a fixed cycle."""
    cycle = [k for k, weight in MIX for _ in range(weight)]
    for n in range(start, stop):
        kind = cycle[n * 37 % len(cycle)]
        content = kinds[kind][n % len(kinds[kind])]
        sub = folder / f"d{n // 5000:03d}" / f"e{n // 500 % 10}"
        if n % 500 == 0 or n == start:
            sub.mkdir(parents=True, exist_ok=True)
        # Names do not always match the content: the scan sniffs content, as exiftool does.
        (sub / f"f{n:07d}{SUFFIX.get(kind, '.png' if content.startswith(PNG) else '.bin')}").write_bytes(content)


def _tree_rss_kb(pid: int) -> int:
    """RSS of a process and all its descendants, from /proc."""
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    stack.extend(int(c) for c in f.read().split())
        except (OSError, StopIteration, ValueError):
            continue
    return total


def run_measured(cmd: list[str], **kwargs) -> tuple[float, int, int]:
    """Wall time, peak RSS of the process tree (KiB) and exit code."""
    peak = 0
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kwargs)
    done = threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_kb(proc.pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    elapsed = time.perf_counter() - started
    done.set()
    sampler.join()
    if proc.returncode not in (0, 1, 3):
        sys.exit(f"{cmd[0]} failed ({proc.returncode}): {err.decode(errors='replace')[-2000:]}")
    return elapsed, peak, proc.returncode


def scan_cmd(folder: Path, out: Path, jobs: int) -> list[str]:
    exe = shutil.which("aigc-check", path=os.path.dirname(sys.executable)) or shutil.which("aigc-check")
    return [exe, "scan", str(folder), "--out", str(out), "--jobs", str(jobs), "--progress", "none", "--overwrite"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--files", type=int, default=20_000)
    ap.add_argument("--large", type=int, default=100_000, help="second size, for peak memory (0: skip)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--work", default=None, help="working folder (default: a new temporary one, removed after)")
    args = ap.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="aigc-bench-"))
    folder, out = work / "files", work / "out"
    try:
        kinds = templates()
        t = time.perf_counter()
        make_folder(folder, 0, args.files, kinds)
        print(f"made {args.files:,} files in {time.perf_counter() - t:.1f} s under {folder}")

        exiftool = shutil.which("exiftool")
        ours, peak_small, _ = run_measured(scan_cmd(folder, out, args.jobs))
        summary = json.loads((out / "summary.json").read_text())
        print(
            f"aigc-check scan --jobs {args.jobs}: {ours:.2f} s, {args.files / ours:,.0f} files/s, "
            f"peak RSS {peak_small / 1024:.0f} MiB (all processes); checked {summary['files']['checked']:,}, "
            f"skipped {sum(summary['files']['skipped'].values()):,}, verdicts {summary['verdicts']}"
        )
        if exiftool:
            theirs, peak_exif, _ = run_measured([exiftool, "-json", "-r", "-q", "-q", str(folder)])
            print(
                f"exiftool -json -r: {theirs:.2f} s, {args.files / theirs:,.0f} files/s, "
                f"peak RSS {peak_exif / 1024:.0f} MiB"
            )
            print(f"throughput ratio aigc-check / exiftool: {theirs / ours:.1f}x")
        else:
            print("exiftool not found (apt-get install -y libimage-exiftool-perl): no ratio")
        if args.large > args.files:
            make_folder(folder, args.files, args.large, kinds)
            big, peak_large, _ = run_measured(scan_cmd(folder, out, args.jobs))
            print(
                f"aigc-check scan of {args.large:,} files: {big:.2f} s, {args.large / big:,.0f} files/s, "
                f"peak RSS {peak_large / 1024:.0f} MiB (vs {peak_small / 1024:.0f} MiB at {args.files:,})"
            )
    finally:
        if not args.work:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
