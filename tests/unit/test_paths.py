"""The path policy: robot paths resolve inside the robot's, the run's or an allowed folder, or are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from robocore import BusinessError, Context, RunSettings
from robocore.i18n import use_language
from robocore.paths import NAME_MAX_BYTES, NameRefused, PathPolicy, PathRefused, name_in


@pytest.fixture
def layout(tmp_path: Path) -> dict[str, Path]:
    """A robot folder, a run folder, an allowed folder, and a secret file beside them."""
    folders = {name: tmp_path / name for name in ("robot", "run", "partage")}
    for folder in folders.values():
        folder.mkdir()
    (folders["robot"] / "entree.txt").write_text("bonjour", encoding="utf-8")
    (folders["partage"] / "liste.txt").write_text("liste", encoding="utf-8")
    secret = tmp_path / "dehors.txt"
    secret.write_text("confidentiel", encoding="utf-8")
    return {**folders, "secret": secret, "tmp": tmp_path}


@pytest.fixture
def policy(layout: dict[str, Path]) -> PathPolicy:
    return PathPolicy.of(layout["robot"], layout["run"], [layout["partage"]])


def test_paths_inside_the_three_kinds_of_folder_are_resolved(policy: PathPolicy, layout: dict[str, Path]) -> None:
    """Relative paths are the robot folder's; absolute ones inside the run or an allowed folder pass."""
    assert policy.check("entree.txt") == (layout["robot"] / "entree.txt").resolve()
    assert policy.check("sous/../entree.txt") == (layout["robot"] / "entree.txt").resolve()
    assert policy.check(layout["run"] / "sortie.xlsx") == (layout["run"] / "sortie.xlsx").resolve()
    assert policy.check(str(layout["partage"] / "liste.txt")) == (layout["partage"] / "liste.txt").resolve()
    assert policy.check(".") == layout["robot"].resolve()


@pytest.mark.parametrize("kind", ["parent", "deep_parent", "absolute", "etc", "run_escape", "allowed_escape",
                                  "through_file"])
def test_escapes_are_refused_naming_step_and_path(policy: PathPolicy, layout: dict[str, Path], kind: str) -> None:
    """`..`, absolute paths and escapes from the run or allowed folders: PathRefused (a BusinessError)."""
    path = {"parent": "../dehors.txt", "deep_parent": "a/b/../../../dehors.txt",
            "absolute": str(layout["secret"]), "etc": "/etc/passwd",
            "run_escape": str(layout["run"] / ".." / "dehors.txt"),
            "allowed_escape": str(layout["partage"] / ".." / "dehors.txt"),
            "through_file": "entree.txt/../../dehors.txt"}[kind]
    with pytest.raises(BusinessError) as caught:
        policy.check(path, step="lecture")
    message = str(caught.value)
    assert isinstance(caught.value, PathRefused)
    assert message.startswith(f"étape « lecture » : chemin « {path} » refusé, hors du dossier du robot")
    with use_language("en"):
        assert str(caught.value).startswith(f"step “lecture”: path “{path}” refused, outside the robot's folder")


def test_symlinks_leading_out_are_refused(policy: PathPolicy, layout: dict[str, Path]) -> None:
    """A link to a file or a folder outside, or a dangling link to outside, is refused (read and write)."""
    robot = layout["robot"]
    (robot / "lien.txt").symlink_to(layout["secret"])
    (robot / "lien_dossier").symlink_to(layout["tmp"])
    (robot / "pendant.txt").symlink_to(layout["tmp"] / "nouveau.txt")
    for path in ("lien.txt", "lien_dossier/dehors.txt", "lien_dossier/x/y.txt", "pendant.txt"):
        for write in (False, True):
            with pytest.raises(PathRefused, match="→"):
                policy.check(path, write=write, step="s")
    assert not (layout["tmp"] / "x").exists() and not (layout["tmp"] / "nouveau.txt").exists()


def test_symlinks_staying_inside_are_followed(policy: PathPolicy, layout: dict[str, Path]) -> None:
    """A link from the robot folder into an allowed folder is fine: the resolved target is checked."""
    (layout["robot"] / "vers_partage").symlink_to(layout["partage"])
    assert policy.check("vers_partage/liste.txt") == (layout["partage"] / "liste.txt").resolve()


@pytest.mark.parametrize("path, reason", [
    ("a\x00b.txt", "octet nul"),
    ("x" * (NAME_MAX_BYTES + 1) + ".txt", f"nom de plus de {NAME_MAX_BYTES} octets"),
    ("é" * 128 + ".txt", f"nom de plus de {NAME_MAX_BYTES} octets"),  # 256 bytes in UTF-8
    ("/".join(["dossier"] * 600), "chemin de plus de 4096 octets"),
    ("~/dehors.txt", "« ~ » n'est pas développé"),
    ("", "chemin vide"),
])
def test_malformed_paths_are_refused_before_any_system_call(policy: PathPolicy, path: str, reason: str) -> None:
    """NUL bytes, names over 255 bytes, paths over 4096 bytes, `~` and empty paths are refused by name."""
    with pytest.raises(PathRefused) as caught:
        policy.check(path, write=True, step="s")
    assert reason in str(caught.value)
    assert "\x00" not in str(caught.value) and len(str(caught.value)) < 1000


def test_link_loop_is_refused(policy: PathPolicy, layout: dict[str, Path]) -> None:
    """A symbolic link loop is bad data (PathRefused), not a crash."""
    (layout["robot"] / "boucle").symlink_to(layout["robot"] / "boucle")
    with pytest.raises(PathRefused, match="boucle"):
        policy.check("boucle/x.txt", step="s")


def test_input_files_are_allowed_one_by_one(layout: dict[str, Path]) -> None:
    """A file given as a file input may be used where it is; its neighbours may not."""
    mine = layout["tmp"] / "ailleurs" / "mon-classeur.xlsx"
    mine.parent.mkdir()
    mine.write_bytes(b"x")
    policy = PathPolicy.of(layout["robot"], layout["run"], files=[mine])
    assert policy.check(mine) == mine.resolve()
    with pytest.raises(PathRefused):
        policy.check(mine.parent / "voisin.xlsx")
    with pytest.raises(PathRefused):
        policy.check(mine.parent)


def test_write_creates_the_folder_and_checks_the_target_again(policy: PathPolicy, layout: dict[str, Path],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Writing creates the parent; a folder swapped for a link out while it is created is caught."""
    target = policy.check("sorties/2026/rapport.xlsx", write=True, step="s")
    assert target.parent.is_dir() and target.parent.is_relative_to(layout["robot"].resolve())

    def swap(self: Path, *args: object, **kwargs: object) -> None:  # another process wins the race
        self.symlink_to(layout["tmp"])

    monkeypatch.setattr(Path, "mkdir", swap)
    with pytest.raises(PathRefused, match="→"):
        policy.check("course/dehors.txt", write=True, step="s")


def test_context_path_names_the_current_step(tmp_path: Path) -> None:
    """ctx.path (and the older resolve_path) apply the policy of the run's folders and settings."""
    robot, run, partage = tmp_path / "robot", tmp_path / "run", tmp_path / "partage"
    for folder in (robot, run, partage):
        folder.mkdir()
    ctx = Context(run_id="r", robot="r", robot_dir=robot, run_dir=run)
    ctx.step_id = "rapport"
    with pytest.raises(BusinessError, match="^étape « rapport » : chemin « ../partage/a.txt » refusé"):
        ctx.path("../partage/a.txt")
    with pytest.raises(BusinessError):
        ctx.resolve_path("/etc/passwd")
    ctx.settings = RunSettings(allowed_dirs=[partage])
    assert ctx.path("../partage/a.txt", write=True) == (partage / "a.txt").resolve()


def test_evidence_path_refuses_an_evidence_folder_linked_out(tmp_path: Path) -> None:
    """Evidence goes to the run folder; an evidence folder replaced by a link to outside is refused."""
    robot, run = tmp_path / "robot", tmp_path / "run"
    robot.mkdir()
    run.mkdir()
    ctx = Context(run_id="r", robot="r", robot_dir=robot, run_dir=run).for_item("D-1")
    assert ctx.evidence_path("../../capture.png") == (run / "evidence" / "D-1" / "capture.png").resolve()
    (run / "evidence").rename(run / "ancien")
    (run / "evidence").symlink_to(tmp_path)
    with pytest.raises(BusinessError):
        ctx.evidence_path("capture.png")
    assert not (tmp_path / "D-1").exists()


# ---- names of server files (API file inputs) -----------------------------------------------------
def test_a_name_inside_an_allowed_folder_is_found(layout: dict[str, Path], tmp_path: Path) -> None:
    """A plain name, or a name with sub-folders, designates the file of the first folder holding it."""
    second = tmp_path / "second"
    (second / "2026").mkdir(parents=True)
    (second / "2026" / "mars.xlsx").write_bytes(b"x")
    (second / "liste.txt").write_text("autre", encoding="utf-8")
    folders = [layout["partage"], second]
    assert name_in("liste.txt", folders) == (layout["partage"] / "liste.txt").resolve()
    assert name_in("2026/mars.xlsx", folders) == (second / "2026" / "mars.xlsx").resolve()


@pytest.mark.parametrize("name, missing", [
    ("../dehors.txt", False), ("/etc/passwd", False), ("sous/../../dehors.txt", False),
    ("~/dehors.txt", False), ("a\x00b", False), ("..\\dehors.txt", False), ("lien.txt", False),
    ("absent.xlsx", True), ("sous", True),
])
def test_names_that_leave_the_allowed_folders_are_refused(layout: dict[str, Path], name: str, missing: bool) -> None:
    """Absolute paths, `..`, `~`, NUL, backslashes and links out are refused; absent files and folders too."""
    (layout["partage"] / "lien.txt").symlink_to(layout["secret"])
    (layout["partage"] / "sous").mkdir()
    with pytest.raises(NameRefused) as caught:
        name_in(name, [layout["partage"]])
    assert caught.value.missing is missing
    assert caught.value.french.startswith(("fichier « ", "« "))
