"""What ``--similar`` costs: hashing per image and per minute of video, scan throughput with and
without it, clustering time at 100,000 and 1,000,000 hashes, and the near-duplicate set's precision
and recall.

    python bench/bench_similar.py hash      [--corpus ../shared/corpus]
    python bench/bench_similar.py video     (needs ffmpeg: makes a 60 s 1280x720 clip in a temporary folder)
    python bench/bench_similar.py scan      [--jobs 2] [--rounds 3]
    python bench/bench_similar.py cluster   [--sizes 100000,1000000] [--crops] [--faiss] [--real]
    python bench/bench_similar.py quality   [--ablate]  (precision and recall on near_duplicates.py's set)

The machine is shared and noisy: every figure is a ratio or a best-of measured within one run.
Clustering hashes are synthetic (PDQ hashes of unrelated pictures are close to uniform; a tenth of
them get a copy 0-31 bits away), since no million real pictures are at hand; the peak memory is the
process's maximum resident size.  Not a test: run it by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "fixtures"))

from aigc_check import Checker, CheckOptions  # noqa: E402


def corpus_dir(given: str | None) -> Path:
    return Path(given or os.environ.get("AIGC_CORPUS") or ROOT.parent / "shared" / "corpus")


def bench_hash(corpus: Path) -> None:
    images = sorted(p for p in corpus.rglob("*") if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp"))
    plain, similar = Checker(), Checker(CheckOptions(similar=True))
    rows = []
    for p in images:
        best_plain = min(_timed(lambda p=p: plain.check(str(p))) for _ in range(3))
        best_similar = min(_timed(lambda p=p: similar.check(str(p))) for _ in range(3))
        sim = similar.check(str(p)).similarity
        if sim is None or sim.hash is None:
            continue
        with_pixels = 1
        try:
            from PIL import Image

            with Image.open(p) as im:
                with_pixels = im.size[0] * im.size[1]
        except Exception:
            pass
        rows.append((p.suffix.lower(), with_pixels, best_plain, best_similar))
    for label, keep in (
        ("all", lambda r: True),
        ("JPEG", lambda r: r[0] in (".jpg", ".jpeg")),
        ("PNG", lambda r: r[0] == ".png"),
        ("WebP", lambda r: r[0] == ".webp"),
    ):
        chosen = [r for r in rows if keep(r)]
        if not chosen:
            continue
        extra = statistics.median(r[3] - r[2] for r in chosen)
        mp = statistics.median(r[1] for r in chosen) / 1e6
        print(
            f"{label:5} n={len(chosen):3}  median {mp:.1f} MP  check {statistics.median(r[2] for r in chosen):7.2f} ms"
            f"  check --similar {statistics.median(r[3] for r in chosen):7.2f} ms  hash adds {extra:6.2f} ms"
        )
    _variant_share(images)


def _variant_share(images: list[Path]) -> None:
    """What the crop variants cost: each picture hashed with and without them, interleaved, best of 3."""
    from aigc_check.similar import hashing

    full = hashing.CROP_MARGINS
    with_variants, without = [], []
    for p in images:
        fmt = "jpeg" if p.suffix.lower() in (".jpg", ".jpeg") else p.suffix.lower().lstrip(".")
        for margins, into in ((full, with_variants), ((), without)):
            hashing.CROP_MARGINS = margins

            def once(p: Path = p, fmt: str = fmt) -> None:
                with open(p, "rb") as f:
                    hashing.hash_file(f, fmt, None)

            into.append(min(_timed(once) for _ in range(3)))
    hashing.CROP_MARGINS = full
    a, b = statistics.median(with_variants), statistics.median(without)
    print(
        f"hash_file median: {a:.1f} ms with the {len(full)} crop variants, {b:.1f} ms with the whole hash only "
        f"({a / b:.2f}x, the same run)"
    )


def bench_video() -> None:
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        sys.exit("ffmpeg is needed to make the clip")
    with tempfile.TemporaryDirectory() as tmp:
        clip = Path(tmp) / "clip.mp4"
        subprocess.run(
            [ffmpeg, "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=60",
             "-c:v", "libx264", "-preset", "veryfast", "-g", "60", "-pix_fmt", "yuv420p", str(clip)],
            check=True,
        )  # fmt: skip
        checker = Checker(CheckOptions(similar=True, time_limit=600))
        best = min(_timed(lambda: checker.check(str(clip))) for _ in range(2))
        sim = checker.check(str(clip)).similarity
        assert sim is not None
        print(
            f"60 s 1280x720 H.264 at 30 fps: {best / 1000:.2f} s per minute of video, "
            f"{len(sim.frame_hashes)} frames hashed"
        )


def bench_scan(jobs: int, rounds: int, corpus: Path) -> None:
    from makers import near_duplicates

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "files"
        near_duplicates.make(folder / "near-dup", corpus)
        shutil.copytree(ROOT / "fixtures" / "files", folder / "fixtures")
        count = sum(1 for p in folder.rglob("*") if p.is_file())
        times: dict[str, list[float]] = {"plain": [], "similar": []}
        for r in range(rounds):
            for mode in ("plain", "similar") if r % 2 == 0 else ("similar", "plain"):
                out = Path(tmp) / f"out-{mode}-{r}"
                args = [
                    sys.executable,
                    "-m",
                    "aigc_check",
                    "scan",
                    str(folder),
                    "--out",
                    str(out),
                    "--jobs",
                    str(jobs),
                    "--progress",
                    "none",
                    "--no-html",
                ]
                if mode == "similar":
                    args.append("--similar")
                started = time.perf_counter()
                subprocess.run(args, check=False, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
                times[mode].append(time.perf_counter() - started)
        plain, similar = min(times["plain"]), min(times["similar"])
        print(
            f"{count} files, {jobs} jobs: without --similar {count / plain:.0f} files/s ({plain:.2f} s), "
            f"with {count / similar:.0f} files/s ({similar:.2f} s): {similar / plain:.2f}x the time"
        )


def bench_cluster(sizes: list[int], crops: bool, compare_faiss: bool) -> None:
    import numpy as np

    from aigc_check.similar import index as index_module
    from aigc_check.similar.cluster import FileHashes, components, links

    for n in sizes:
        rng = np.random.default_rng(n)
        base = rng.integers(0, 256, (n, 32), dtype=np.uint8)
        copies = n // 10
        bits = np.unpackbits(base[:copies], axis=1)
        for k in range(copies):
            flip = rng.choice(256, int(rng.integers(0, 32)), replace=False)
            bits[k, flip] ^= 1
        hashes = np.vstack([base, np.packbits(bits, axis=1)])
        hexes = [h.tobytes().hex() for h in hashes]
        crop_hex = [rng.integers(0, 256, (4, 32), dtype=np.uint8) for _ in range(len(hexes))] if crops else None
        files = [
            FileHashes(f"f{i}", (h,), False, crop_hex[i].tobytes() if crop_hex else b"") for i, h in enumerate(hexes)
        ]
        started = time.perf_counter()
        found = links(files)
        groups = components(len(files), found)
        elapsed = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        planted = {(k, n + k): int(np.bitwise_count(hashes[k] ^ hashes[n + k]).sum()) for k in range(copies)}
        got = {(x.a, x.b) for x in found}
        by_distance: dict[int, list[int]] = {}
        for pair, d in planted.items():
            by_distance.setdefault(d // 4 * 4, [0, 0])[0] += pair in got
            by_distance[d // 4 * 4][1] += 1
        recall = ", ".join(f"{d}-{d + 3}: {hit / total:.3f}" for d, (hit, total) in sorted(by_distance.items()))
        mode = "exact" if len(hashes) < index_module.EXACT_BELOW else "banded"
        print(
            f"{len(files):>9,} files ({'+4 centre crops each' if crops else 'one hash each'}, {mode}): "
            f"{elapsed:7.1f} s, "
            f"{len(found):,} links, {len(groups):,} clusters (planted {copies:,}), peak RSS {peak:,.0f} MiB"
        )
        print(f"           recall of the planted copies by distance: {recall}")
        if compare_faiss:
            import faiss

            for name, make in (
                ("faiss IndexBinaryFlat", lambda: faiss.IndexBinaryFlat(256)),
                ("faiss IndexBinaryMultiHash nflip=1", lambda: faiss.IndexBinaryMultiHash(256, 16, 16)),
            ):
                index = make()
                if hasattr(index, "nflip"):
                    index.nflip = 1
                index.add(hashes)
                sample = hashes[: min(len(hashes), 16384)]
                started = time.perf_counter()
                index.range_search(sample, 32)
                per_query = (time.perf_counter() - started) / len(sample)
                print(f"           {name}: {per_query * len(hashes):7.1f} s for all (from {len(sample):,} queries)")
            ours = HashIndexTimer(hashes)
            print(f"           this index's search, same queries: {ours:7.1f} s for all")


def bench_cluster_real(total_hashes: list[int], corpus: Path) -> None:
    """Clustering hashes shaped like real ones: each synthetic picture is a real picture's whole hash
    and crop variants (the near-duplicate set's), all XORed with one random mask of its own.  The
    mask keeps the distances among a picture's own hashes (its variants' structure, their band
    collisions) and makes two pictures as unrelated as two random hashes; a fifth of the pictures
    made from a base of the set get a planted copy, a real copy of the same base (re-encoded,
    resized, cropped ...) under the same mask.  Reports time, peak memory, the planted copies found
    and the links between unrelated pictures (none should be)."""
    import numpy as np
    from makers import near_duplicates

    from aigc_check.similar import hashing
    from aigc_check.similar.cluster import FileHashes, components, links
    from aigc_check.similar.index import hashes_array, pack
    from aigc_check.similar.known import reliable_hashes

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "set"
        near_duplicates.make(folder, corpus)
        truth = _truth(folder)
        sets: dict[str, np.ndarray] = {}
        for name in sorted(truth):
            fmt = "jpeg" if name.endswith((".jpg", ".jpeg")) else name.rsplit(".", 1)[1].lower()
            with open(folder / name, "rb") as f:
                sim = hashing.hash_file(f, {"tif": "tiff"}.get(fmt, fmt), None)
            if sim is not None and reliable_hashes(sim):
                sets[name] = hashes_array([sim.hash or "", *sim.crop_hashes])
    templates = [n for n in sets if truth[n][1] in ("original", "unrelated")]
    copies_of = {
        n: [c for c in sets if truth[c][0] == truth[n][0] and c != n] if truth[n][0] != "-" else [] for n in templates
    }
    per_picture = statistics.mean(len(sets[n]) for n in templates)
    for target in total_hashes:
        rng = np.random.default_rng(target)
        files: list[FileHashes] = []
        planted: list[tuple[int, int]] = []
        picture_of: list[int] = []
        count = 0
        k = 0
        while count < target:
            template = templates[k % len(templates)]
            mask = rng.integers(0, 256, 32, dtype=np.uint8)
            members = [template]
            if copies_of[template] and rng.random() < 0.2:
                members.append(copies_of[template][int(rng.integers(len(copies_of[template])))])
            for m in members:
                masked = [row.tobytes().hex() for row in sets[m] ^ mask]
                files.append(FileHashes(f"p{k}-{m}", (masked[0],), False, pack(masked[1:])))
                picture_of.append(k)
                count += len(masked)
            if len(members) == 2:
                planted.append((len(files) - 2, len(files) - 1))
            k += 1
        started = time.perf_counter()
        found = links(files)
        groups = components(len(files), found)
        elapsed = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        got = {(x.a, x.b) for x in found}
        wrong = sum(1 for x in found if picture_of[x.a] != picture_of[x.b])
        hit = sum(1 for pair in planted if pair in got)
        print(
            f"{count:>10,} hashes ({len(files):,} pictures, {per_picture:.0f} hashes each on average, real "
            f"shapes): {elapsed:7.1f} s, {len(groups):,} clusters, planted copies found {hit}/{len(planted)}, "
            f"links between unrelated pictures {wrong}, peak RSS {peak:,.0f} MiB"
        )


def HashIndexTimer(hashes: object) -> float:
    from aigc_check.similar.index import HashIndex

    index = HashIndex(hashes)  # type: ignore[arg-type]
    sample = index.hashes[: min(index.size, 16384)]
    started = time.perf_counter()
    for _ in index.search(sample):
        pass
    return (time.perf_counter() - started) / len(sample) * index.size


def bench_quality(corpus: Path, ablate: bool) -> None:
    """The near-duplicate set scanned end to end (the README's table), and with ``--ablate`` the same
    files clustered in-process with each family of crop variants left out, to see what it buys."""
    from makers import near_duplicates

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "set"
        near_duplicates.make(folder, corpus)
        out = Path(tmp) / "out"
        subprocess.run(
            [sys.executable, "-m", "aigc_check", "scan", str(folder), "--similar", "--out", str(out),
             "--progress", "none", "--no-html"],
            check=False, capture_output=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
        )  # fmt: skip
        truth = _truth(folder)
        cluster = {}
        for line in (out / "results.jsonl").read_text(encoding="utf-8").splitlines():
            r = json.loads(line)
            cluster[Path(r["path"]).name] = r.get("cluster")
        print(f"end to end ({len(truth)} files):")
        _score(truth, cluster)
        if ablate:
            _ablate(folder, truth)


def _truth(folder: Path) -> dict[str, tuple[str, str, str]]:
    truth = {}
    for line in (folder / "truth.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        name, group, variant, crop = line.split("\t")
        truth[name] = (group, variant, crop)
    return truth


def _score(truth: dict[str, tuple[str, str, str]], cluster: dict[str, str | None]) -> None:
    names = sorted(truth)
    true_pairs = found_pairs = correct = 0
    per_variant: dict[str, list[int]] = {}
    missed = []
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            same = truth[a][0] == truth[b][0] != "-"
            joined = cluster[a] is not None and cluster[a] == cluster[b]
            true_pairs += same
            found_pairs += joined
            correct += same and joined
            if joined and not same:
                missed.append(f"JOINED unrelated {a} {b}")
    for name, (group, variant, crop) in truth.items():
        if variant in ("original", "unrelated"):
            continue
        original = next(n for n, (g, v, _) in truth.items() if g == group and v == "original")
        hit = cluster[name] is not None and cluster[name] == cluster[original]
        per_variant.setdefault(variant, [0, 0])[0] += hit
        per_variant[variant][1] += 1
        if not hit:
            missed.append(f"missed {name} (crop {crop})")
    print(
        f"  pairs: precision {correct / max(found_pairs, 1):.3f} ({correct}/{found_pairs}), "
        f"recall {correct / true_pairs:.3f} ({correct}/{true_pairs})"
    )
    for variant, (hit, total) in per_variant.items():
        print(f"    {variant:16} {hit}/{total} copies in their original's cluster")
    for line in missed:
        print(f"    {line}")


def _ablate(folder: Path, truth: dict[str, tuple[str, str, str]]) -> None:
    """Each file hashed in-process with a family of variants left out, then clustered."""
    from aigc_check.similar import hashing
    from aigc_check.similar.cluster import FileHashes, components, links
    from aigc_check.similar.index import pack
    from aigc_check.similar.known import reliable_hashes

    full = hashing.CROP_MARGINS
    families = {
        "all variants": full,
        "no variants (whole only)": (),
        "without one-side": tuple(m for m in full if sum(x > 0 for x in m) != 1),
        "without adjacent": tuple(m for m in full if not _pattern(m, ADJACENT)),
        "without opposite": tuple(m for m in full if not _pattern(m, ((1, 0, 1, 0), (0, 1, 0, 1)))),
        "without three-side": tuple(m for m in full if sum(x > 0 for x in m) != 3),
        "without all-sides": tuple(m for m in full if sum(x > 0 for x in m) != 4),
        "without the 2.5 % level": tuple(m for m in full if max(m) != hashing.CROP_LEVELS[0]),
        "without the 7.5 % level": tuple(m for m in full if max(m) != hashing.CROP_LEVELS[-1]),
    }  # fmt: skip
    names = sorted(truth)
    for label, margins in families.items():
        hashing.CROP_MARGINS = margins
        started = time.perf_counter()
        files, owners = [], []
        for name in names:
            with open(folder / name, "rb") as f:
                fmt = "jpeg" if name.endswith((".jpg", ".jpeg")) else name.rsplit(".", 1)[1].lower()
                fmt = {"tif": "tiff"}.get(fmt, fmt)
                sim = hashing.hash_file(f, fmt, None)
            if sim is None or not reliable_hashes(sim):
                continue
            files.append(FileHashes(name, tuple(reliable_hashes(sim)), False, pack(sim.crop_hashes)))
            owners.append(name)
        elapsed = (time.perf_counter() - started) / len(names) * 1000
        cluster: dict[str, str | None] = dict.fromkeys(names)
        for k, members in enumerate(components(len(files), links(files))):
            for m in members:
                cluster[owners[m]] = f"c{k}"
        print(f"{label}: {len(margins)} variants, hashing {elapsed:.1f} ms per file (this run)")
        _score(truth, cluster)
        # Each copy with its original alone: no chain through the other copies of the same base.
        by_name = {f.path: f for f in files}
        direct: dict[str, list[int]] = {}
        for name, (group, variant, _) in truth.items():
            if variant in ("original", "unrelated"):
                continue
            original = next(n for n, (g, v, _) in truth.items() if g == group and v == "original")
            pair = [by_name[n] for n in (original, name) if n in by_name]
            direct.setdefault(variant, [0, 0])[0] += len(pair) == 2 and bool(links(pair))
            direct[variant][1] += 1
        print(
            "    direct (each copy with its original alone): "
            + ", ".join(f"{v} {h}/{t}" for v, (h, t) in direct.items())
        )
    hashing.CROP_MARGINS = full


ADJACENT = ((1, 1, 0, 0), (0, 1, 1, 0), (0, 0, 1, 1), (1, 0, 0, 1))


def _pattern(margins: tuple[float, ...], patterns: tuple[tuple[int, ...], ...]) -> bool:
    return tuple(int(x > 0) for x in margins) in patterns


def _timed(call: object) -> float:
    started = time.perf_counter()
    call()  # type: ignore[operator]
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["hash", "video", "scan", "cluster", "quality"])
    parser.add_argument("--corpus")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--crops", action="store_true")
    parser.add_argument(
        "--real", action="store_true", help="cluster: hashes shaped like real pictures' (--sizes in hashes)"
    )
    parser.add_argument("--faiss", action="store_true", help="also time faiss's binary indexes (pip install faiss-cpu)")
    parser.add_argument("--ablate", action="store_true", help="quality: also leave out each family of crop variants")
    args = parser.parse_args()
    corpus = corpus_dir(args.corpus)
    if args.what == "hash":
        bench_hash(corpus)
    elif args.what == "video":
        bench_video()
    elif args.what == "scan":
        bench_scan(args.jobs, args.rounds, corpus)
    elif args.what == "cluster":
        sizes = [int(s) for s in args.sizes.split(",")]
        if args.real:
            bench_cluster_real(sizes, corpus)
        else:
            bench_cluster(sizes, args.crops, args.faiss)
    else:
        bench_quality(corpus, args.ablate)


if __name__ == "__main__":
    main()
