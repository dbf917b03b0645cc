"""Latency of the audio, video and document label writers, per format, beside a plain copy of the bytes.

    python bench/bench_mark_writers.py [--repeat 20] [--file PATH ...]

For each format, one fixture is timed three ways in the same process, interleaved, best of
``--repeat``: a plain copy (the bytes read from disk and written to a new file: what ``mark`` costs
at the least), the rewrite alone (the writer's own work, without the read-back), and the whole writer
(rewrite plus the ``check`` of the result that every writer runs before it hands the file back).
The fixtures are a few KB, so they measure the fixed cost of each writer; ``--file`` adds files of
your own (any size; the format is the one ``check`` names) to see the cost per byte.
The machine is shared and noisy: read the ratios, which are measured in one run, not the times.
Not a test: run it by hand.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aigc_check.mark.label import LabelFields  # noqa: E402
from aigc_check.mark.writers import _WRITERS, writer_for  # noqa: E402

INPUTS = [  # (fixture, checker format id)
    ("av-gb-keys.mp4", "mp4"),
    ("av-plain.mov", "mov"),
    ("av-plain.m4a", "m4a"),
    ("av-gb-simpletag.mkv", "mkv"),
    ("av-plain.webm", "webm"),
    ("av-plain.avi", "avi"),
    ("av-gb-chunk.wav", "wav"),
    ("av-gb-txxx.mp3", "mp3"),
    ("av-gb-vorbis.flac", "flac"),
    ("av-gb-vorbis.ogg", "ogg"),
    ("av-plain.opus", "opus"),
    ("av-gb-onmetadata.flv", "flv"),
    ("office-gb-custom.docx", "docx"),
    ("office-gb-custom.xlsx", "xlsx"),
    ("office-gb-user-defined.odt", "odt"),
    ("office-plain.epub", "epub"),
    ("md-front-matter-label.md", "markdown"),
]
LABEL = LabelFields("1", "001191110102MACQD9K64010000", "bench-1", "", "0011911101020000000000000002", "p-1", "")


def best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--file", action="append", default=[], help="another input (repeatable)")
    args = parser.parse_args()
    inputs = [(ROOT / "fixtures" / "files" / name, fmt) for name, fmt in INPUTS]
    if args.file:
        from aigc_check import check

        inputs += [(Path(f), check(f).format) for f in args.file]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        out_path = Path(tmp) / "out"
        for path, fmt in inputs:
            name = path.name
            data = path.read_bytes()
            module = importlib.import_module(f"aigc_check.mark.writers.{_WRITERS[fmt].split(':')[0]}")
            rewrite = module._write
            writer = writer_for(fmt)
            assert writer is not None
            writer(data, LABEL)  # warm imports and the checker

            def copy(path: Path = path) -> None:
                out_path.write_bytes(path.read_bytes())

            def only_rewrite(path: Path = path, rewrite=rewrite) -> None:  # type: ignore[no-untyped-def]
                out_path.write_bytes(rewrite(path.read_bytes(), LABEL).data)

            def whole(path: Path = path, writer=writer) -> None:  # type: ignore[no-untyped-def]
                out_path.write_bytes(writer(path.read_bytes(), LABEL).data)

            t_copy = best(copy, args.repeat)
            t_rewrite = best(only_rewrite, args.repeat)
            t_whole = best(whole, args.repeat)
            rows.append((name, fmt, len(data), t_copy, t_rewrite, t_whole))
    head = f"{'file':34} {'format':8} {'bytes':>7} {'copy ms':>8} {'rewrite ms':>10} {'writer ms':>9}"
    print(head + f" {'rewrite/copy':>12} {'writer/copy':>11}")
    for name, fmt, size, c, r, w in rows:
        print(f"{name:34} {fmt:8} {size:7d} {c * 1e3:8.3f} {r * 1e3:10.3f} {w * 1e3:9.3f} {r / c:12.1f} {w / c:11.1f}")
    print(f"(best of {args.repeat}; {os.cpu_count()} cpus; read the ratios, the machine is shared)")


if __name__ == "__main__":
    main()
