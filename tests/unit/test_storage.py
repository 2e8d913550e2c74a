"""Run files: the names every backend accepts or refuses, recorded paths mapped to run-relative names,
the local backend (the data folder itself, zero copy) and the worker's input mapping."""

from __future__ import annotations

from pathlib import Path

import pytest

from robocore.errors import SettingsError
from robocore.storage import LOG_NAME, RunFileError, RunFileMissing, check_name, open_run_files, run_relative
from robocore.storage.local import LocalRunFiles
from robocore.storage.sync import Shipper, map_inputs, materialise

RUN = "20260101-120000-abcd1234"


@pytest.mark.parametrize("name", [
    "../x", "a/../../x", "/etc/passwd", "C:/Windows/win.ini", "a\\..\\b", "", ".", "a//b", "a/./b", "a\x00b",
    "evidence/" + "x" * 300, "/".join(["d"] * 40), "y" * 600, "é" * 130,
])
def test_names_leaving_the_run_or_over_the_bounds_are_refused(name: str) -> None:
    """`..`, absolute paths, drives, backslashes, empty parts, NUL, a 300-character part, a 40-folder
    depth and a 600-character name are refused with our message naming the file."""
    with pytest.raises(RunFileError, match="nom de fichier refusé"):
        check_name(name)


@pytest.mark.parametrize("name", ["log.jsonl", "inputs/classeur/Liste (mars)_.xlsx", "evidence/N-2/echec.png",
                                  "sortie/é" * 3 + "x", "a" * 255])
def test_ordinary_run_file_names_are_accepted(name: str) -> None:
    """Names that stay inside the run, accents and a 255-byte part included, are accepted as given."""
    assert check_name(name) == name


@pytest.mark.parametrize(("recorded", "expected"), [
    (f"/srv/serveur/runs/{RUN}/inputs/classeur/gl.xlsx", "inputs/classeur/gl.xlsx"),
    (f"/home/worker/.local/share/robocore/runs/{RUN}/evidence/N-2/echec.png", "evidence/N-2/echec.png"),
    (f"C:\\robocore\\runs\\{RUN}\\evidence\\a.png", "evidence/a.png"),
    (f"/srv/runs/{RUN}", None),
    (f"/srv/runs/autre/{RUN}/x.png", None),
    ("/etc/passwd", None),
    (f"/srv/runs/{RUN}/../../../etc/passwd", None),
])
def test_a_recorded_path_maps_to_its_name_inside_the_run(recorded: str, expected: str | None) -> None:
    """A path recorded by any process (its own home) gives the name after `runs/<run id>/`; a path outside
    a folder of that run, or one climbing out of it, gives None."""
    assert run_relative(RUN, recorded) == expected


def test_local_put_get_list_delete(tmp_path: Path) -> None:
    """The local backend keeps files in `<root>/<run>/<name>`, lists them in name order with their size,
    pages the listing, and deletes one file or the whole run."""
    files = LocalRunFiles(tmp_path)
    assert files.put(RUN, "sortie/b.txt", b"bonjour") == 7
    files.put(RUN, "a.txt", Path(__file__))
    assert (tmp_path / RUN / "sortie" / "b.txt").read_bytes() == b"bonjour"
    assert files.get(RUN, "sortie/b.txt") == b"bonjour"
    assert [f.path for f in files.list_files(RUN)] == ["a.txt", "sortie/b.txt"]
    assert [f.path for f in files.list_files(RUN, limit=1, offset=1)] == ["sortie/b.txt"]
    files.delete(RUN, "a.txt")
    assert files.stat(RUN, "a.txt") is None
    files.delete(RUN)
    assert not (tmp_path / RUN).exists()
    with pytest.raises(RunFileMissing):
        files.chunks(RUN, "sortie/b.txt")


def test_local_put_of_the_file_in_place_copies_nothing(tmp_path: Path) -> None:
    """Putting the very file that is already in the run folder (an upload, a worker's output) is a no-op."""
    files = LocalRunFiles(tmp_path)
    target = tmp_path / RUN / "inputs" / "f" / "gl.xlsx"
    target.parent.mkdir(parents=True)
    target.write_bytes(b"classeur")
    before = target.stat().st_mtime_ns
    assert files.put(RUN, "inputs/f/gl.xlsx", target) == 8
    assert target.stat().st_mtime_ns == before


def test_local_symlink_leaving_the_run_and_an_overlong_part_are_not_served(tmp_path: Path) -> None:
    """A symlink to a file outside the run reads as missing; a 300-character part is refused, not an OSError."""
    files = LocalRunFiles(tmp_path)
    (tmp_path / "secret.txt").write_text("NE-PAS-SERVIR")
    (tmp_path / RUN).mkdir()
    (tmp_path / RUN / "lien").symlink_to(tmp_path / "secret.txt")
    assert files.local_path(RUN, "lien") is None
    with pytest.raises(RunFileMissing):
        files.get(RUN, "lien")
    with pytest.raises(RunFileError):
        files.get(RUN, "x" * 300)


def test_local_size_bound_keeps_nothing(tmp_path: Path) -> None:
    """A file over the size bound is refused and leaves no file, not even a partial one."""
    files = LocalRunFiles(tmp_path, max_file_bytes=1000)
    with pytest.raises(RunFileError, match="trop volumineux"):
        files.put(RUN, "gros.bin", b"x" * 1001)
    assert list((tmp_path / RUN).rglob("*")) == []


def test_local_log_append_and_read_with_offsets(tmp_path: Path) -> None:
    """Log lines are appended to log.jsonl and read after an offset, `limit` at a time; a line still being
    written (no newline yet) is not read until it is complete."""
    files = LocalRunFiles(tmp_path)
    assert files.append_log(RUN, ['{"n": 1}', '{"n": 2}', '{"n": 3}']) == 3
    page = files.read_log(RUN, 0, 2)
    assert (page.lines, page.next_offset) == (['{"n": 1}', '{"n": 2}'], 2)
    with (tmp_path / RUN / LOG_NAME).open("a") as fh:
        fh.write('{"n": 4')
    page = files.read_log(RUN, page.next_offset, 10)
    assert (page.lines, page.next_offset) == (['{"n": 3}'], 3)
    assert files.read_log("autre-run", 0, 10).lines == []


def test_unknown_storage_setting_names_the_variable(tmp_path: Path) -> None:
    """ROBOCORE_STORAGE other than local, database or s3://… fails naming the variable and the value."""
    with pytest.raises(SettingsError, match="ROBOCORE_STORAGE='ftp://x'"):
        open_run_files(None, "ftp://x")  # type: ignore[arg-type]


def test_map_inputs_points_recorded_server_paths_at_this_run_folder(tmp_path: Path) -> None:
    """A file input recorded as the server's path inside the run is pointed at this process's run folder;
    other inputs, and file inputs outside the run, are kept as they are."""
    recorded = {"classeur": f"/srv/serveur/runs/{RUN}/inputs/classeur/gl.xlsx", "note": "/srv/runs/x",
                "autre": "/data/partage/ref.xlsx"}
    mapped = map_inputs(recorded, ["classeur", "autre"], RUN, tmp_path / RUN)
    assert mapped == {"classeur": str(tmp_path / RUN / "inputs" / "classeur" / "gl.xlsx"), "note": "/srv/runs/x",
                      "autre": "/data/partage/ref.xlsx"}


def test_local_storage_neither_copies_nor_ships(tmp_path: Path) -> None:
    """With the local storage the run folder is the shared one: nothing is materialised, no thread ships."""
    files = LocalRunFiles(tmp_path)
    files.put(RUN, "inputs/f/a.txt", b"a")
    assert materialise(files, RUN, tmp_path / "ailleurs") == {}
    assert not (tmp_path / "ailleurs").exists()
    with Shipper(files, RUN, tmp_path / RUN) as shipper:
        assert shipper._thread is None
