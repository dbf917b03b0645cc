"""Near-duplicates (--similar): PDQ hashes, the exact multi-index search, clusters on the near-duplicate
test set made from the corpus, label inheritance, the known-content index and the account signals."""

from __future__ import annotations

import csv
import json
import os
import random
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import FIXTURES, ROOT
from scan_helpers import cli_command, results, run_cli, summary

import aigc_check.similar  # noqa: F401  (first: it keeps numpy's BLAS from starting native threads here)

pytest.importorskip("pdqhash", reason="the similar extra: pip install 'aigc-check[similar]'")
np = pytest.importorskip("numpy")

from PIL import Image, PngImagePlugin  # noqa: E402

from aigc_check import Checker, CheckOptions  # noqa: E402
from aigc_check.errors import PolicyError  # noqa: E402
from aigc_check.model import Similarity  # noqa: E402
from aigc_check.policy_accounts import validate_accounts  # noqa: E402
from aigc_check.scan.account_signals import SignalCollector, parameter_template  # noqa: E402
from aigc_check.similar import (  # noqa: E402
    MATCH_DISTANCE,
    VARIANT_DISTANCE,
    SimilarIndexError,
    SimilarUnavailableError,
    require,
)
from aigc_check.similar import index as index_module  # noqa: E402
from aigc_check.similar.cluster import FileHashes, components, links  # noqa: E402
from aigc_check.similar.hashing import CROP_MARGINS, hash_file  # noqa: E402
from aigc_check.similar.index import HashIndex, distance, pack  # noqa: E402
from aigc_check.similar.known import KnownEntry, KnownIndex  # noqa: E402

sys.path.insert(0, str(ROOT / "fixtures"))
from makers import near_duplicates  # noqa: E402

PHOTO = next(p for p in sorted(FIXTURES.iterdir()) if p.suffix == ".jpg")
SIMILAR = Checker(CheckOptions(similar=True, time_limit=20))


@pytest.fixture(scope="module")
def near_dup_set(tmp_path_factory: pytest.TempPathFactory, corpus: Path) -> Path:
    if not near_duplicates.available(corpus):
        pytest.skip("the corpus lacks a base picture of the near-duplicate set")
    out = tmp_path_factory.mktemp("near-dup")
    near_duplicates.make(out / "set", corpus)
    return out / "set"


@pytest.fixture(scope="module")
def near_dup_scan(near_dup_set: Path) -> Path:
    out = near_dup_set.parent / "scan"
    index = near_dup_set.parent / "known.idx"
    # 168 pictures, some of 12 megapixels: longer than run_cli's two minutes on a loaded machine.
    done = subprocess.run(
        cli_command(
            str(near_dup_set), "--similar", "--similar-index", str(index), "--out", str(out), "--progress", "none"
        ),
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=900,
    )
    assert done.returncode in (0, 1), done.stderr
    return out


def truth(set_dir: Path) -> dict[str, tuple[str, str]]:
    with open(set_dir / "truth.tsv", encoding="utf-8") as f:
        return {row["file"]: (row["group"], row["variant"]) for row in csv.DictReader(f, delimiter="\t")}


# Every copy the README's table says is found: re-encodes, resizes, brightness and every crop kind.
ALWAYS_FOUND = ("jpeg-q30", "half-size", "brighter-20pc", "crop-4pc", "crop-corner-5pc", *near_duplicates.CROPS)


# --- hashes --------------------------------------------------------------------------------------


def test_a_photo_gets_a_reliable_pdq_hash_and_its_re_encode_is_within_the_match_distance(tmp_path, corpus):
    photo = corpus / "pillow" / "hopper.jpg"
    copy = tmp_path / "copy.jpg"
    Image.open(photo).save(copy, "JPEG", quality=40)
    a, b = SIMILAR.check(str(photo)).similarity, SIMILAR.check(str(copy)).similarity
    assert a is not None and b is not None
    assert a.algorithm == "pdq" and len(a.hash or "") == 64 and a.reliable and (a.quality or 0) >= 50
    assert len(a.crop_hashes) == len(CROP_MARGINS) and len(set(a.crop_hashes)) == len(CROP_MARGINS)
    assert distance(a.hash or "", b.hash or "") <= MATCH_DISTANCE


def test_a_crop_from_one_side_meets_its_original_through_the_crop_variants(tmp_path, corpus):
    """PDQ alone loses a copy cut by 5 % from the top; a variant of each meets one of the other."""
    photo = corpus / "c2pa-rs" / "P1000827.jpg"
    with Image.open(photo) as im:
        w, h = im.size
        im.convert("RGB").crop((0, round(h * 0.05), w, h)).save(tmp_path / "top.jpg", quality=85)
    a, b = SIMILAR.check(str(photo)).similarity, SIMILAR.check(str(tmp_path / "top.jpg")).similarity
    assert a is not None and b is not None
    assert distance(a.hash or "", b.hash or "") > MATCH_DISTANCE
    closest = min(distance(x, y) for x in a.crop_hashes for y in b.crop_hashes)
    assert closest <= VARIANT_DISTANCE
    found = links(
        [
            FileHashes("a", (a.hash or "",), crops=pack(a.crop_hashes)),
            FileHashes("b", (b.hash or "",), crops=pack(b.crop_hashes)),
        ]
    )
    assert [(x.a, x.b) for x in found] == [(0, 1)]
    # Without the variants, nothing links them.
    assert links([FileHashes("a", (a.hash or "",)), FileHashes("b", (b.hash or "",))]) == []


def test_variant_to_variant_links_within_the_variant_distance_only():
    a, b = "0" * 64, _flip("0" * 64, list(range(120)))  # whole hashes far apart
    crop = "f" * 64
    near = _flip(crop, list(range(VARIANT_DISTANCE)))
    too_far = _flip(crop, list(range(VARIANT_DISTANCE + 1)))
    assert links([FileHashes("a", (a,), crops=pack([crop])), FileHashes("b", (b,), crops=pack([near]))]) != []
    assert links([FileHashes("a", (a,), crops=pack([crop])), FileHashes("b", (b,), crops=pack([too_far]))]) == []
    # A variant of one within the match distance of the other's whole hash links them.
    assert links([FileHashes("a", (a,), crops=pack([_flip(b, list(range(30)))])), FileHashes("b", (b,))]) != []


def test_a_flat_picture_is_hashed_but_marked_unreliable(tmp_path):
    flat = tmp_path / "flat.png"
    Image.new("RGB", (300, 200), (120, 120, 120)).save(flat)
    sim = SIMILAR.check(str(flat)).similarity
    assert sim is not None and sim.hash is not None
    assert sim.quality is not None and sim.quality < 50 and sim.reliable is False


@pytest.mark.parametrize("cut", [0.5, 0.1])
def test_a_truncated_image_gets_no_hash_and_an_error_not_a_crash(tmp_path, corpus, cut):
    data = (corpus / "c2pa-rs" / "earth_apollo17.jpg").read_bytes()
    broken = tmp_path / "broken.png"
    # A PNG header and a cut IDAT: the walk reads the header, the decoder cannot make the pixels.
    png = tmp_path / "whole.png"
    Image.open(corpus / "c2pa-rs" / "earth_apollo17.jpg").save(png)
    broken.write_bytes(png.read_bytes()[: int(len(png.read_bytes()) * cut)])
    result = SIMILAR.check(str(broken))
    assert result.similarity is not None
    assert result.similarity.hash is None and result.similarity.error
    assert result.similarity.error.startswith("undecodable:")
    assert data  # the source photo itself is fine


def test_files_without_a_picture_have_no_similarity():
    audio = next(p for p in sorted(FIXTURES.iterdir()) if p.suffix == ".flac" and "broken" not in p.name)
    assert SIMILAR.check(str(audio)).similarity is None
    assert "similarity" not in SIMILAR.check(str(audio)).to_dict()


def test_without_similar_the_result_has_neither_field_and_nothing_is_imported():
    code = (
        "import sys; from aigc_check import check; r = check(sys.argv[1]).to_dict(); "
        "assert 'similarity' not in r and 'cluster' not in r, r; "
        "loaded = [m for m in ('pdqhash', 'faiss', 'av', 'numpy', 'aigc_check.similar') if m in sys.modules]; "
        "assert not loaded, loaded"
    )
    photo = next(p for p in sorted(FIXTURES.iterdir()) if p.suffix == ".jpg")
    done = subprocess.run(
        [sys.executable, "-c", code, str(photo)], capture_output=True, text=True, env={"PYTHONPATH": str(ROOT)}
    )
    assert done.returncode == 0, done.stderr


def test_similar_without_the_extra_is_a_clear_error(monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "pdqhash" else real(name, *a))
    with pytest.raises(SimilarUnavailableError, match=r"pip install 'aigc-check\[similar\]'"):
        require("pdqhash")
    with pytest.raises(SimilarUnavailableError):
        Checker(CheckOptions(similar=True))


def test_a_video_is_hashed_about_once_a_second(tmp_path):
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        pytest.skip("ffmpeg makes the test video")
    video = tmp_path / "clip.mp4"
    subprocess.run(
        [
            ffmpeg,
            "-v",
            "error",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25:duration=4",
            "-pix_fmt",
            "yuv420p",
            str(video),
        ],
        check=True,
    )
    sim = SIMILAR.check(str(video)).similarity
    assert sim is not None and sim.algorithm == "pdq-frames" and sim.error is None
    assert 4 <= len(sim.frame_hashes) <= 5
    assert list(sim.frame_seconds) == sorted(sim.frame_seconds)
    assert all(b - a >= 0.95 for a, b in zip(sim.frame_seconds, sim.frame_seconds[1:]))


# --- the index and clusters ----------------------------------------------------------------------


def _flip(h: str, bits: list[int]) -> str:
    value = int(h, 16)
    for b in bits:
        value ^= 1 << b
    return f"{value:064x}"


@pytest.mark.parametrize("exact", [True, False], ids=["exact", "banded"])
def test_the_search_finds_the_pairs_within_the_match_distance(exact):
    rng = random.Random(7)
    bases = [f"{rng.getrandbits(256):064x}" for _ in range(300)]
    copies, expected = [], set()
    for n, base in enumerate(bases[:60]):
        d = n % 45  # 0 .. 44 bits away: those up to 31 must be found, the others not
        copies.append(_flip(base, rng.sample(range(256), d)))
        if d <= MATCH_DISTANCE:
            expected.add((n, 300 + n))
    hashes = index_module.hashes_array(bases + copies)
    index = HashIndex(hashes, exact=exact)
    found = set()
    for i, j, d in index.self_pairs():
        for x, y, dist in zip(i.tolist(), j.tolist(), d.tolist()):
            assert dist <= MATCH_DISTANCE and dist == distance((bases + copies)[x], (bases + copies)[y])
            found.add((x, y))
    searched = set()
    for q, s, _ in index.search(hashes[300:]):
        searched.update((stored, 300 + query) for query, stored in zip(q.tolist(), s.tolist()) if stored != 300 + query)
    if exact:
        assert found == expected and searched == expected
    else:  # banded: every pair within 15 bits, and no pair beyond the match distance
        assert {(n, 300 + n) for n in range(60) if n % 45 <= 15} <= found <= expected
        assert searched <= expected


def test_clusters_are_connected_near_duplicates_and_videos_need_half_their_frames():
    a = "0" * 64
    near = _flip(a, list(range(20)))
    far = _flip(a, list(range(100)))
    files = [
        FileHashes("a", (a,)),
        FileHashes("b", (near,)),
        FileHashes("c", (far,)),
        FileHashes("v", (a, far, _flip(far, [1, 2, 3]), _flip(far, [9])), video=True),  # 1 of 4 frames matches a
    ]
    found = links(files)
    assert [(x.a, x.b, x.distance) for x in found] == [(0, 1, 20), (2, 3, 0)] or (0, 1, 20) in [
        (x.a, x.b, x.distance) for x in found
    ]
    assert all((x.a, x.b) != (0, 3) for x in found)  # the video only opens on picture a
    groups = components(len(files), found)
    assert [0, 1] in groups


def test_the_near_duplicate_set_clusters_as_the_readme_says(near_dup_set, near_dup_scan):
    t = truth(near_dup_set)
    rows = {Path(r["path"]).name: r for r in results(near_dup_scan)}
    assert set(rows) == set(t) - {"truth.tsv"}
    cluster_group: dict[str, set[str]] = {}
    for name, r in rows.items():
        if r.get("cluster"):
            cluster_group.setdefault(r["cluster"], set()).add(t[name][0])
    # Precision: no cluster mixes two bases or holds an unrelated picture.
    assert all(len(groups) == 1 and "-" not in groups for groups in cluster_group.values()), cluster_group
    # Recall: every re-encode, resize, brightness and crop copy is with its original.
    missed = []
    for name, (group, variant) in t.items():
        if variant in ALWAYS_FOUND:
            original = next(n for n, (g, v) in t.items() if g == group and v == "original")
            if not (rows[name].get("cluster") and rows[name]["cluster"] == rows[original].get("cluster")):
                missed.append(name)
    assert not missed
    captions = [n for n, (_, v) in t.items() if v == "caption"]
    assert sum(1 for n in captions if rows[n].get("cluster")) >= 0.8 * len(captions)
    clusters = [json.loads(line) for line in (near_dup_scan / "clusters.jsonl").read_text().splitlines()]
    assert {c["id"] for c in clusters} == set(cluster_group)
    for c in clusters:
        assert c["size"] == len(c["members"]) >= 2
        assert {"path", "account", "post_id", "inherited_from", "closest_distance"} <= set(c["members"][0])
    assert summary(near_dup_scan)["similar"]["clusters"] == len(clusters)


# --- label inheritance and the known-content index -----------------------------------------------


def test_a_stripped_copy_of_a_labelled_ai_image_is_suspected_ai_naming_its_original(near_dup_set, near_dup_scan):
    rows = {Path(r["path"]).name: r for r in results(near_dup_scan)}
    original = "huminify-c2pa-detector__lady__original.png"
    assert rows[original]["status"] == "ai-generated" and rows[original]["label"] == "ai-generated"
    for variant in ("jpeg-q30", "half-size", "crop-4pc", "brighter-20pc", "crop-corner-5pc", "crop-3-sides"):
        copy = rows[f"huminify-c2pa-detector__lady__{variant}.jpg"]
        assert copy["status"] == "ai-generated" and copy["label"] == "suspected-ai", variant
        assert copy["verdict"] == "unlabelled-ai" and copy["certainty"] == "strong"
        ev = [e for e in copy["evidence"] if e["source"] == "near-duplicate"]
        assert len(ev) == 1 and ev[0]["location"].endswith(original)
        assert 0 <= int(ev[0]["value"]) <= MATCH_DISTANCE and original in ev[0]["explanation"]
    # A near-duplicate of a photo with no AI status inherits nothing.
    photo_copy = rows["pillow__hopper__jpeg-q30.jpg"]
    assert photo_copy["status"] == "unknown" and photo_copy["label"] is None and photo_copy.get("cluster")
    # The CSV was rebuilt from the rewritten lines.
    with open(near_dup_scan / "results.csv", encoding="utf-8") as f:
        csv_rows = {Path(r["path"]).name: r for r in csv.DictReader(f)}
    assert csv_rows["huminify-c2pa-detector__lady__half-size.jpg"]["label"] == "suspected-ai"
    assert summary(near_dup_scan)["verdicts"]["unlabelled-ai"] == sum(
        1 for r in rows.values() if r["verdict"] == "unlabelled-ai"
    )


def test_the_index_written_by_scan_catches_a_stripped_re_upload_at_check(near_dup_set, near_dup_scan, tmp_path):
    index = near_dup_set.parent / "known.idx"
    lines = index.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    assert header["schema"] == "aigc-check-similar-index/2" and header["entries"] == len(lines) - 1
    assert header["variant_distance"] == VARIANT_DISTANCE
    assert all(json.loads(line)["status"] in ("ai-generated", "ai-modified") for line in lines[1:])
    known = KnownIndex.load(str(index))
    assert any(e.path.endswith("lady__original.png") for e in known.entries)
    # A new stripped copy, never scanned: the gateway's check knows it.
    upload = tmp_path / "upload.jpg"
    Image.open(near_dup_set / "huminify-c2pa-detector__lady__original.png").convert("RGB").resize((700, 700)).save(
        upload, "JPEG", quality=50
    )
    gateway = Checker(CheckOptions(similar_index=str(index)))
    result = gateway.check(str(upload))
    assert result.label == "suspected-ai" and result.status.value == "ai-generated"
    ev = result.evidence[-1]
    assert ev.source == "near-duplicate" and ev.location.endswith("lady__original.png") and str(index) in ev.explanation
    # Unrelated content passes as before.
    other = gateway.check(str(near_dup_set / "unrelated__pillow__flower.jpg"))
    assert other.label is None and all(e.source != "near-duplicate" for e in other.evidence)
    # The CLI reads it too.
    done = subprocess.run(
        [sys.executable, "-m", "aigc_check", "check", "--format", "json", "--similar-index", str(index), str(upload)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT)},
    )
    assert json.loads(done.stdout)["label"] == "suspected-ai", done.stderr


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ('{"schema": "other"}\n', "line 1: not a similar index"),
        ('{"schema": "aigc-check-similar-index/1"}\n{"hash": "zz", "path": "a", "status": "ai-generated"}\n', "line 2"),
        ('{"schema": "aigc-check-similar-index/1"}\nnot json\n', "line 2: not valid JSON"),
        (
            '{"schema": "aigc-check-similar-index/1"}\n{"hash": "' + "0" * 64 + '", "path": "a", "status": "x"}\n',
            "line 2",
        ),
    ],
)
def test_a_malformed_index_is_refused_naming_the_line(tmp_path, text, message):
    path = tmp_path / "bad.idx"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SimilarIndexError, match=message):
        KnownIndex.load(str(path))
    with pytest.raises(SimilarIndexError):
        Checker(CheckOptions(similar_index=str(path)))


def test_a_missing_index_is_an_error_for_check(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "aigc_check", "check", "--similar-index", str(tmp_path / "none.idx"), str(PHOTO)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT)},
    )
    assert done.returncode != 0 and "similar index" in done.stderr


# --- account signals -----------------------------------------------------------------------------

A1111 = (
    "a lighthouse, seed {seed}\nNegative prompt: blurry\n"
    "Steps: 20, Sampler: Euler a, CFG scale: 7, Seed: {seed}, Size: 256x256, Model: dreamshaper_8"
)


def _noise(path: Path, seed: int, parameters: str | None = None) -> None:
    rng = np.random.default_rng(seed)
    # Smooth random pictures (blocks, not white noise), so PDQ sees structure and every one differs.
    small = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
    im = Image.fromarray(small).resize((256, 256), Image.Resampling.BICUBIC)
    if parameters is None:
        im.save(path, "JPEG", quality=90)
    else:
        info = PngImagePlugin.PngInfo()
        info.add_text("parameters", parameters)
        im.save(path, "PNG", pnginfo=info)


def make_accounts(folder: Path) -> Path:
    """A bot: 30 AI images of one template, one every 30 minutes exactly, around the clock, the same
    picture posted three times; a person: 30 photos at irregular daytime hours."""
    folder.mkdir()
    rows = []
    start = datetime(2026, 3, 1, 0, 5, tzinfo=timezone(timedelta(hours=8)))
    for n in range(30):
        name = f"bot_{n:02d}.png"
        _noise(folder / name, 1000 + n // 3, A1111.format(seed=n))  # each picture three times
        rows.append((name, "bot", f"b{n}", (start + timedelta(minutes=30 * n * 1.6)).isoformat()))
    rng = random.Random(3)
    t = datetime(2026, 3, 1, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    for n in range(30):
        name = f"person_{n:02d}.jpg"
        _noise(folder / name, 5000 + n)
        t += timedelta(hours=rng.choice([3, 5, 20, 26, 49]), minutes=rng.randrange(60))
        if t.hour < 8:
            t += timedelta(hours=9)
        rows.append((name, "person", f"p{n}", t.isoformat()))
    sidecar = folder.parent / "posts.csv"
    with open(sidecar, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "declared", "account", "post_id", "posted_at"])
        for name, account, post, posted in rows:
            w.writerow([name, "none", account, post, posted])
    return sidecar


def test_account_signals_tell_a_bot_from_a_person(tmp_path):
    sidecar = make_accounts(tmp_path / "posts")
    out = tmp_path / "scan"
    done = run_cli(
        str(tmp_path / "posts"), "--similar", "--declarations", str(sidecar), "--out", str(out), "--progress", "none"
    )
    assert done.returncode in (0, 1), done.stderr
    with open(out / "accounts.csv", encoding="utf-8") as f:
        accounts = {r["account"]: r for r in csv.DictReader(f)}
    bot, person = accounts["bot"], accounts["person"]
    assert float(bot["ai_share_all"]) == 1.0 and float(bot["one_generator"]) == 1.0
    assert float(bot["one_template"]) == 1.0  # seeds differ, the template does not
    assert float(bot["own_cluster_share"]) == 1.0 and float(bot["cadence_regularity"]) == 0.0
    assert float(bot["hours_active"]) >= 20
    assert "ai-managed-fully" in bot["grades"].split(";") and bot["action"] == "ban"
    assert "homogeneous-mass-production" in bot["grades"].split(";")
    assert "clockwork" in bot["reasons"] and bot["reasons"]
    assert person["grades"] == "" and person["action"] == "none"
    assert float(person["ai_share_all"]) == 0.0 and float(person["cadence_regularity"]) > 0.5
    assert person["one_generator"] == ""  # no AI posts: not measured, not guessed
    top = {a["account"]: a for a in summary(out)["accounts"]["top"]}
    assert top["bot"]["action"] == "ban"
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="clusters-h"' in page and 'id="signals"' in page and "ai-managed-fully" in page
    clusters = [json.loads(line) for line in (out / "clusters.jsonl").read_text().splitlines()]
    assert len(clusters) == 10 and all(c["size"] == 3 and c["account_names"] == ["bot"] for c in clusters)
    assert all(f'id="{c["id"]}"' in page for c in clusters)


def test_the_signal_collector_measures_bursts_and_gaps():
    from aigc_check.policy import load_policy

    policy = load_policy("cn")
    rules = validate_accounts(policy.data, "cn", list(policy.languages))
    c = SignalCollector(rules, policy.data["ai_statuses"])
    for _ in range(8):
        c.add({"account": "x", "status": "unknown", "evidence": []})
    t0 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    c.add_times([("x", (t0 + timedelta(seconds=60 * n)).isoformat()) for n in range(8)])
    values = c.measure("x")
    assert values["burst"] == 8 and values["cadence_regularity"] == 0.0
    assert values["hours_active"] is None  # 8 posts: fewer than its min_posts (24), not measured
    row = c.row("x", "none", "en")
    assert "burst" in row["signals"].split(";") and "cadence_regularity" in row["signals"].split(";")
    assert row["grades"] == "" and row["action"] == "none"  # clockwork posting, but no AI at all: no grade


def test_parameter_templates_leave_out_the_seed_and_prompt():
    a = [{"source": "generator", "generator": "a1111", "value": A1111.format(seed=1)}]
    b = [{"source": "generator", "generator": "a1111", "value": A1111.format(seed=2).replace("lighthouse", "cat")}]
    assert parameter_template(a) == parameter_template(b) is not None
    assert "Seed" not in (parameter_template(a) or "")


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: s["signals"].update(nope={"threshold": 1, "reason": {}}), "signals.nope: not a signal"),
        (lambda s: s["grades"][0].update(action="jail"), r"grades\[0\].action"),
        (lambda s: s["grades"][0].update(all=["burst_size"]), "not one of this policy's signals"),
        (lambda s: s["signals"]["ai_share"]["reason"].pop("zh"), "signals.ai_share.reason"),
        (lambda s: s["signals"]["ai_share"].update(threshold="high"), "threshold must be a number"),
        (lambda s: s["signals"]["ai_share"]["reason"].update(en="share {valu}"), "may use"),
    ],
)
def test_a_bad_accounts_section_names_its_key(change, message):
    data = json.loads((ROOT / "aigc_check" / "policies" / "cn.json").read_text(encoding="utf-8"))
    change(data["accounts"])
    with pytest.raises(PolicyError, match=message):
        validate_accounts(data, "cn.json", data["languages"])


def test_similarity_round_trips_through_the_scan_dict():
    from aigc_check.similar.audit import similarity_of

    sim = Similarity("pdq", "ab" * 32, 90, True, crop_hashes=("cd" * 32,))
    assert similarity_of({"similarity": sim.to_dict()}) == sim


def test_a_version_1_index_is_still_read_its_centre_crops_matched_with_whole_hashes_only(tmp_path):
    from aigc_check.similar.known import write_index

    whole, crop = "0" * 64, "f" * 64
    old = tmp_path / "v1.idx"
    old.write_text(
        '{"schema": "aigc-check-similar-index/1", "match_distance": 31, "min_quality": 50, "entries": 2}\n'
        + "".join(
            json.dumps({"hash": h, "path": "a.png", "status": "ai-generated", "generator": None, "crop": c}) + "\n"
            for h, c in ((whole, False), (crop, True))
        ),
        encoding="utf-8",
    )
    known = KnownIndex.load(str(old))
    assert [e.whole_only for e in known.entries] == [False, True]
    far = _flip(whole, list(range(128)))
    # The old centre crop still catches a copy whose whole hash is near it ...
    assert known.lookup(Similarity("pdq", _flip(crop, [1, 2]), 90, True)) is not None
    # ... but not through the copy's own variants (that rule is version 2's, at another scale).
    assert known.lookup(Similarity("pdq", far, 90, True, crop_hashes=(crop,))) is None
    # Written back as version 2, the old entry keeps its rule; a version 2 variant gets the new one.
    new = tmp_path / "v2.idx"
    write_index(
        str(new), [*known.entries, KnownEntry(_flip(crop, list(range(60))), "b.png", "ai-generated", crop=True)]
    )
    lines = [json.loads(line) for line in new.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["schema"] == "aigc-check-similar-index/2" and lines[2]["whole_only"] is True
    assert "whole_only" not in lines[3]
    reread = KnownIndex.load(str(new))
    assert [e.whole_only for e in reread.entries] == [False, True, False]
    match = reread.lookup(Similarity("pdq", far, 90, True, crop_hashes=(_flip(crop, list(range(70))),)))
    assert match is not None and match.path == "b.png" and match.distance == 10


def test_no_two_different_corpus_pictures_are_joined_by_the_variants(corpus):
    """Every corpus picture against every other: the crop variants join exactly the pairs the whole
    hashes join (the corpus holds the same pictures with other metadata, and otherwise unrelated ones)."""
    files = []
    for p in sorted(corpus.rglob("*")):
        if p.suffix.lower() not in (".jpg", ".jpeg", ".png", ".webp", ".gif", ".tif", ".tiff", ".bmp"):
            continue
        # The hash alone (no metadata check, so no time limit to meet on a loaded machine).
        fmt = {".jpg": "jpeg", ".jpeg": "jpeg", ".tif": "tiff"}.get(p.suffix.lower(), p.suffix.lower().lstrip("."))
        with open(p, "rb") as f:
            sim = hash_file(f, fmt, None)
        if sim is not None and sim.reliable and sim.hash:
            files.append(FileHashes(str(p), (sim.hash,), crops=pack(sim.crop_hashes)))
    assert len(files) >= 50
    with_variants = components(len(files), links(files))
    whole_only = components(len(files), links([FileHashes(f.path, f.hashes) for f in files]))
    assert sorted(with_variants) == sorted(whole_only)


def _clip(path: Path, source: str, *extra: str) -> Path:
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        pytest.skip("ffmpeg makes the test videos")
    subprocess.run(
        [ffmpeg, "-v", "error", "-f", "lavfi", "-i", source, *extra, "-pix_fmt", "yuv420p", str(path)], check=True
    )
    return path


def test_a_re_encoded_video_joins_its_original_and_another_video_does_not(tmp_path):
    from aigc_check.similar.known import reliable_hashes

    original = _clip(tmp_path / "a.mp4", "testsrc2=size=640x360:rate=25:duration=6")
    copy = tmp_path / "a-copy.mp4"
    subprocess.run(
        [
            shutil.which("ffmpeg") or "ffmpeg",
            "-v",
            "error",
            "-i",
            str(original),
            "-vf",
            "scale=320:180",
            "-crf",
            "38",
            str(copy),
        ],
        check=True,
    )
    other = _clip(tmp_path / "b.mp4", "mandelbrot=size=640x360:rate=25", "-t", "6")
    sims = [SIMILAR.check(str(p)).similarity for p in (original, copy, other)]
    assert all(s is not None and s.reliable and s.cut_at_s is None for s in sims)
    files = [FileHashes(str(i), tuple(reliable_hashes(s)), video=True) for i, s in enumerate(sims) if s]
    pairs = {(x.a, x.b) for x in links(files)}
    assert pairs == {(0, 1)}


def test_a_video_stops_being_hashed_at_its_budget_and_says_where(tmp_path):
    from aigc_check.similar.hashing import hash_file

    clip = _clip(tmp_path / "long.mp4", "testsrc2=size=320x240:rate=25:duration=20")
    with open(clip, "rb") as f:
        sim = hash_file(f, "mp4", "video/mp4", budget_s=0.0)
    assert sim is not None and sim.error is None and sim.cut_at_s is not None
    assert 1 <= len(sim.frame_hashes) <= 2 and sim.cut_at_s < 20


def test_scan_refuses_a_malformed_index_before_checking_anything(tmp_path):
    bad = tmp_path / "bad.idx"
    bad.write_text('{"schema": "aigc-check-similar-index/1"}\n{"hash": "nope"}\n', encoding="utf-8")
    out = tmp_path / "out"
    done = run_cli(str(PHOTO), "--similar", "--similar-index", str(bad), "--out", str(out), "--progress", "none")
    assert done.returncode == 2 and "line 2" in done.stderr
    assert not (out / "results.jsonl").exists()


def test_every_fixture_broken_ones_included_is_hashed_or_says_why():
    """No fixture (truncated, malformed and hostile ones included) crashes the hash or changes the verdict."""
    plain = Checker(CheckOptions(time_limit=20))
    for path in sorted(FIXTURES.iterdir()):
        with_hash = SIMILAR.check(str(path))
        without = plain.check(str(path))
        assert with_hash.verdict == without.verdict and with_hash.status == without.status, path.name
        sim = with_hash.similarity
        if sim is None:
            assert with_hash.format not in ("jpeg", "png", "webp", "gif", "tiff", "bmp"), path.name
            continue
        assert (sim.hash is not None) != (sim.error is not None), path.name
        if sim.hash is not None:
            assert len(sim.hash) == 64 and sim.quality is not None and sim.reliable == (sim.quality >= 50)
