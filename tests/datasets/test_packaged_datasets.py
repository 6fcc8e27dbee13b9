"""The benchmarks by name (:mod:`attnviz.io.datasets`): the ground truth that ships, its counts,
names on the command line giving the same scores as the files, and the one-line message for what
cannot ship."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import re
import zipfile
from pathlib import Path

import pytest

from attnviz.errors import AttnvizError
from attnviz.io.datasets import DATASETS, data_dir, dataset_counts, resolve_gt

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT / ".." / "shared" / "data"
THUMOS_DATA = ROOT / "tests" / "evaluate_thumos" / "data"
UCF_DATA = ROOT / "tests" / "evaluate_ucf24" / "data"

#: the figures of shared/data/*/SOURCES.md (also in each packaged SOURCES.md): videos,
#: instances (class instances or tubes), Ambiguous segments, boxes and frames of the split that
#: each name scores
EXPECTED = {
    "thumos14": {"videos": 213, "instances": 3358, "ambiguous": 99, "boxes": None, "frames": None},
    "thumos14-val": {
        "videos": 200, "instances": 3007, "ambiguous": 89, "boxes": None, "frames": None,
    },
    "ucf101-24": {
        "videos": 910, "instances": 1315, "ambiguous": None, "boxes": 170_580, "frames": 159_289,
    },
    "jhmdb21": {"videos": 268, "instances": 268, "ambiguous": None, "boxes": 9126, "frames": 9126},
}  # fmt: skip


def run_cli(*args: str) -> tuple[int, str, str]:
    """``attnviz <args>`` in this process: ``(exit code, stdout, stderr)``."""
    from attnviz.cli import main

    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return code, out.getvalue(), err.getvalue()


def unpacked(name: str, dest: Path) -> Path:
    """The packaged folder or file of ``name`` decompressed into ``dest`` (the original bytes,
    original names): what a user who has the files passes as a path."""
    src = resolve_gt(name).path
    files = list(src.iterdir()) if src.is_dir() else [src, *src.parent.glob("testlist01.txt")]
    out = dest / src.name if src.is_dir() else dest
    out.mkdir(parents=True, exist_ok=True)
    for f in files:
        data = f.read_bytes()
        (out / f.name.removesuffix(".gz")).write_bytes(
            gzip.decompress(data) if f.suffix == ".gz" else data
        )
    return out if src.is_dir() else out / src.name.removesuffix(".gz")


@pytest.fixture(scope="module")
def listed() -> dict[str, dict]:
    code, out, err = run_cli("datasets", "--format", "json")
    assert code == 0, err
    return {r["name"]: r for r in json.loads(out)}


# --------------------------------------------------------------------------- counts
def test_datasets_prints_the_counts_of_sources_md(listed):
    for name, want in EXPECTED.items():
        assert {k: listed[name][k] for k in want} == want, name
        assert listed[name]["ships"] and listed[name]["present"], name
    code, out, _ = run_cli("datasets")
    assert code == 0
    rows = {ln.split()[0]: ln.split()[1:6] for ln in out.splitlines() if ln.split()[:1]}
    assert rows["ucf101-24"] == ["910", "1,315", "-", "170,580", "159,289"]
    assert rows["thumos14"] == ["213", "3,358", "99", "-", "-"]
    for name in ("activitynet-1.3", "ava-v2.1", "ava-v2.2"):
        assert not listed[name]["ships"] and name in rows


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared/data is not beside the repository")
def test_expected_counts_are_those_of_shared_sources_md():
    th = (SHARED / "thumos14" / "SOURCES.md").read_text()
    assert "Test: 213 videos, 3358 class instances + 99 Ambiguous" in " ".join(th.split())
    assert "val: 200 videos, 3007 + 89" in " ".join(th.split())
    ucf = " ".join((SHARED / "ucf101_24" / "SOURCES.md").read_text().split())
    assert "2284 train + 910 test" in ucf
    assert "Test split: 1315 tubes, 170,580 boxes, 159,289 frames" in ucf
    jh = " ".join((SHARED / "jhmdb21" / "SOURCES.md").read_text().split())
    assert re.search(r"9126 text files .* 268 test videos, every frame .* 1 actor per video", jh)


@pytest.mark.skipif(not SHARED.is_dir(), reason="shared/data is not beside the repository")
def test_packaged_files_are_the_shared_files(tmp_path):
    for name, folder in (("thumos14", "annotations_test"), ("thumos14-val", "annotations_val")):
        out = unpacked(name, tmp_path / name)
        for f in (SHARED / "thumos14" / folder).iterdir():
            assert (out / f.name).read_bytes() == f.read_bytes(), f
    for name, files in (
        ("ucf101-24", ("pyannot.pkl", "testlist01.txt")),
        ("jhmdb21", ("jhmdb21_test_gt.json",)),
    ):
        out = unpacked(name, tmp_path / name).parent
        src = SHARED / ("ucf101_24" if name == "ucf101-24" else name)
        for f in files:
            assert (out / f).read_bytes() == (src / f).read_bytes(), f
    for f in ("Class Index_Detection.txt", "thumos14_test_groundtruth.csv", "thumos_gt.json"):
        mine = THUMOS_DATA / f
        data = (
            mine.read_bytes()
            if mine.exists()
            else gzip.decompress((THUMOS_DATA / (f + ".gz")).read_bytes())
        )
        assert data == (SHARED / "thumos14" / f).read_bytes(), f
    with (
        zipfile.ZipFile(UCF_DATA / "groundtruths_jhmdb_extract.zip") as small,
        zipfile.ZipFile(SHARED / "jhmdb21" / "groundtruths_jhmdb.zip") as full,
    ):
        for name in small.namelist():
            assert small.read(name) == full.read(name), name
    pbtxt = resolve_gt("ava-v2.1", must_exist=False).classes
    assert pbtxt.read_bytes() == (SHARED / "ava" / pbtxt.name).read_bytes()


def test_every_shipped_dataset_has_its_sources_note():
    for d in DATASETS.values():
        if d.shipped:
            note = resolve_gt(d.name).path
            note = (note if note.is_dir() else note.parent).joinpath("SOURCES.md")
            if not note.exists():
                note = note.parent.parent / "SOURCES.md"
            text = note.read_text()
            assert "Licence" in text and "provenance" in text.lower(), d.name


def test_counts_come_from_the_files():
    # the same function on a name that does not ship is an error, not a number
    with pytest.raises(AttnvizError, match="does not ship"):
        dataset_counts("ava-v2.1")
    with pytest.raises(AttnvizError, match="unknown dataset 'thumos15'.*thumos14"):
        dataset_counts("thumos15")


# --------------------------------------------------------------------------- resolving
def test_names_bring_subset_split_and_classes():
    t = resolve_gt("thumos14")
    assert (t.subset, t.split, t.name) == ("test", "test", "thumos14") and t.path.is_dir()
    assert t.classes is not None and t.classes.read_text().split()[:2] == ["7", "BaseballPitch"]
    assert resolve_gt("thumos14-val").subset == "val"
    u = resolve_gt("ucf101-24")
    assert u.split == "test" and u.path.name == "pyannot.pkl.gz"
    assert Path(u) == u.path  # a path-like object


def test_a_path_is_a_path_and_an_existing_path_wins(tmp_path, monkeypatch):
    p = resolve_gt(tmp_path / "x.json")
    assert p.dataset is None and p.path == tmp_path / "x.json" and p.subset is None
    monkeypatch.chdir(tmp_path)
    (tmp_path / "thumos14").mkdir()
    assert resolve_gt("thumos14").dataset is None  # the user's folder, not the packaged one


def test_a_misspelt_name_lists_the_names():
    code, _, err = run_cli(
        "eval-thumos", "--gt", "thumos-14", "--pred", THUMOS_DATA / "full_test.txt"
    )
    assert code == 2 and len(err.splitlines()) == 1
    assert "thumos-14: ground truth not found, and not a name of attnviz datasets" in err
    assert "thumos14, thumos14-val, ucf101-24, jhmdb21" in err


def test_data_folder_default_and_env(monkeypatch, tmp_path):
    for var in ("ATTNVIZ_DATA", "TORCH_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(var, raising=False)
    assert data_dir() == Path("~/.cache/torch/attnviz").expanduser()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data_dir() == tmp_path / "xdg" / "torch" / "attnviz"
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    assert data_dir() == tmp_path / "th" / "attnviz"  # beside torch.hub.get_dir() (th/hub)
    monkeypatch.setenv("ATTNVIZ_DATA", str(tmp_path / "data"))
    assert data_dir() == tmp_path / "data"


def test_names_that_cannot_ship(monkeypatch, tmp_path):
    monkeypatch.setenv("ATTNVIZ_DATA", str(tmp_path))
    with pytest.raises(AttnvizError) as exc:
        resolve_gt("activitynet-1.3")
    msg = str(exc.value)
    assert "\n" not in msg and "activity_net.v1-3.min.json" in msg
    assert str(tmp_path / "activitynet") in msg
    (tmp_path / "activitynet").mkdir()
    (tmp_path / "activitynet" / "activity_net.v1-3.min.json").write_text("{}")
    assert resolve_gt("activitynet-1.3").path == tmp_path / "activitynet/activity_net.v1-3.min.json"
    (tmp_path / "ava").mkdir()
    (tmp_path / "ava" / "ava_val_v2.1.csv").write_text("")
    ava = resolve_gt("ava-v2.1")  # its label map ships
    assert ava.classes.name == "ava_action_list_v2.1_for_activitynet_2018.pbtxt"
    (tmp_path / "ava" / "ava_val_v2.2.csv").write_text("")
    with pytest.raises(AttnvizError, match="label map not found.*ava_action_list_v2.2"):
        resolve_gt("ava-v2.2")
    code, out, _ = run_cli("datasets")
    assert code == 0 and f"read from {tmp_path / 'ava' / 'ava_val_v2.1.csv'} (present)" in out


# --------------------------------------------------------------------------- same scores
def test_thumos14_by_name_scores_as_the_files(tmp_path):
    run = THUMOS_DATA / "full_test.txt"
    folders = [unpacked("thumos14", tmp_path)]
    if (SHARED / "thumos14").is_dir():
        folders.append(SHARED / "thumos14" / "annotations_test")
    for extra in ([], ["--compare", "thumos14,thumos14-2014,activitynet"]):
        code, by_name, err = run_cli(
            "eval-thumos", "--gt", "thumos14", "--pred", run, "--format", "json", *extra
        )
        assert code == 0, err
        for folder in folders:
            code, by_path, err = run_cli(
                "eval-thumos", "--gt", folder, "--pred", run, "--format", "json", *extra
            )
            assert code == 0, err
            assert by_path == by_name
    assert json.loads(by_name)["protocols"][0]["mAP"][0] > 0


def test_thumos14_val_by_name_brings_its_subset(tmp_path):
    run = THUMOS_DATA / "val_subset.txt.gz"
    code, by_name, err = run_cli("eval-thumos", "--gt", "thumos14-val", "--pred", run, "--quiet")
    assert code == 0, err
    folder = unpacked("thumos14-val", tmp_path)
    code, by_path, err = run_cli(
        "eval-thumos", "--gt", folder, "--subset", "val", "--pred", run, "--quiet"
    )
    assert code == 0, err
    assert by_path == by_name and "mAP" in by_name
    code, _, err = run_cli("eval-thumos", "--gt", "thumos14-val", "--subset", "test", "--pred", run)
    assert code == 2 and "is the val subset, not 'test'" in err and len(err.splitlines()) == 1
    code, _, err = run_cli("eval-thumos", "--gt", "ucf101-24", "--pred", run)
    assert code == 2 and "not THUMOS14-style" in err


@pytest.mark.parametrize(
    ("metric", "pred", "protocol"),
    [("frame", "ucf_frames.csv.gz", "act"), ("video", "ucf_tubes.json.gz", "ucf24-matlab")],
)
def test_ucf101_24_by_name_scores_as_the_file(tmp_path, metric, pred, protocol):
    files = [unpacked("ucf101-24", tmp_path)]  # pyannot.pkl with testlist01.txt beside it
    if (SHARED / "ucf101_24").is_dir():
        files.append(SHARED / "ucf101_24" / "pyannot.pkl")
    args = ["--pred", UCF_DATA / pred, "--metric", metric, "--protocol", protocol]
    code, by_name, err = run_cli("eval-ucf24", "--gt", "ucf101-24", *args, "--format", "json")
    assert code == 0, err
    for f in files:
        code, by_path, err = run_cli("eval-ucf24", "--gt", f, *args, "--format", "json")
        assert code == 0, err
        assert by_path == by_name
    assert max(json.loads(by_name)["mAP"]) > 0
    code, _, err = run_cli("eval-ucf24", "--gt", "thumos14", *args)
    assert code == 2 and "not spatio-temporal" in err


# --------------------------------------------------------------------------- convert-gt
def test_convert_thumos14_back_to_the_official_files(tmp_path):
    code, _, err = run_cli(
        "convert-gt", "--gt", "thumos14", "--to", "thumos14-folder", tmp_path / "o"
    )
    assert code == 0, err
    original = unpacked("thumos14", tmp_path / "orig")
    for f in original.glob("*_test.txt"):
        assert (tmp_path / "o" / f.name).read_bytes() == f.read_bytes(), f.name
    code, _, err = run_cli(
        "convert-gt",
        "--gt",
        "thumos14-val",
        "--to",
        "activitynet-json",
        "--out",
        tmp_path / "a.json",
    )
    assert code == 0, err
    data = json.loads((tmp_path / "a.json").read_text())
    assert {"version", "taxonomy", "database"} <= set(data)
    assert len(data["database"]) == 200
    assert sum(len(v["annotations"]) for v in data["database"].values()) == 3007
    assert {v["subset"] for v in data["database"].values()} == {"validation"}
    code, _, err = run_cli("convert-gt", "--gt", "thumos14", "--to", "act-json", tmp_path / "x")
    assert code == 2 and "does not apply" in err and not (tmp_path / "x").exists()


def test_convert_spatial_names(tmp_path):
    from attnviz.io.spatial_gt import read_spatial_gt

    code, _, err = run_cli("convert-gt", "--gt", "jhmdb21", "--to", "act-pkl", tmp_path / "j.pkl")
    assert code == 0, err
    a, b = read_spatial_gt(resolve_gt("jhmdb21").path), read_spatial_gt(tmp_path / "j.pkl")
    assert a.test_videos == b.test_videos and a.labels == b.labels
    v = a.test_videos[7]
    assert (a.videos[v].tubes[0].boxes == b.videos[v].tubes[0].boxes).all()
    # the positional form of before still works, with a name too
    code, _, err = run_cli("convert-gt", "jhmdb21", tmp_path / "y.zip", "--to", "yowo-zip")
    assert code == 0, err
    assert read_spatial_gt(tmp_path / "y.zip").test_videos == tuple(sorted(a.test_videos))


def test_pyproject_ships_every_dataset_file():
    import fnmatch

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = pyproject["tool"]["setuptools"]["package-data"]["attnviz"]
    base = ROOT / "attnviz"
    files = [p for p in (base / "resources" / "datasets").rglob("*") if p.is_file()]
    assert len(files) >= 50
    for f in files:
        rel = f.relative_to(base).as_posix()
        # setuptools globs: '*' does not cross '/'
        assert any(fnmatch.fnmatch(rel, g) and rel.count("/") == g.count("/") for g in globs), rel


def test_figures_takes_names_too():
    import typer

    from attnviz.cli.figures import _resolve_gts

    val = resolve_gt("thumos14-val")
    paths, subset, classes = _resolve_gts(["thumos14-val", "ucf101-24"], None, None)
    assert paths == [val.path, resolve_gt("ucf101-24").path]
    assert (subset, classes) == ("val", val.classes)
    assert _resolve_gts(["x/gt.json"], None, None) == ([Path("x/gt.json")], "test", None)
    with pytest.raises(typer.Exit):
        _resolve_gts(["thumos14", "thumos14-val"], None, None)
