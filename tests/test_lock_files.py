"""The lock files agree with pyproject.toml: every dependency declared is pinned (with hashes)
at a version the declared range allows, and nothing is pinned as ours that is not declared.
Editing one without running ``make lock`` fails here, before a fresh install can drift."""

from __future__ import annotations

import importlib.util
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

pytestmark = pytest.mark.no_database


ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())

_spec = importlib.util.spec_from_file_location("lockfile", ROOT / "requirements" / "lockfile.py")
lockfile = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lockfile)


def declared(*extras: str) -> dict[str, Requirement]:
    lines = list(PYPROJECT["project"]["dependencies"])
    for extra in extras:
        lines += PYPROJECT["project"]["optional-dependencies"][extra]
    return {lockfile.normalise(req.name): req for req in map(Requirement, lines)}


LOCKS = {
    "app.txt": declared(),
    "dev.txt": declared("dev"),
}


def disagreements(lock: Path, wanted: dict[str, Requirement]) -> list[str]:
    pins = lockfile.read_lock(lock)
    problems = []
    by_name: dict[str, list[dict]] = {}
    for pin in pins:
        by_name.setdefault(pin["name"], []).append(pin)
        if not pin["hashes"]:
            problems.append(f"{pin['name']} has no hash")
    for name, requirement in wanted.items():
        if name not in by_name:
            problems.append(f"{name} is in pyproject.toml but not in {lock.name}")
        for pin in by_name.get(name, []):
            if Version(pin["version"]) not in requirement.specifier:
                problems.append(f"{name}=={pin['version']} is outside {requirement.specifier}")
    for name, entries in by_name.items():
        ours = any(lockfile.PROJECT in entry["via"] for entry in entries)
        if ours and name not in wanted:
            problems.append(f"{name} is locked as a dependency but pyproject.toml lacks it")
    return problems


@pytest.mark.parametrize("name", sorted(LOCKS))
def test_lock_matches_pyproject(name):
    assert disagreements(ROOT / "requirements" / name, LOCKS[name]) == []


def test_the_check_sees_a_dependency_added_to_one_side_only(tmp_path):
    lock = ROOT / "requirements" / "app.txt"
    wanted = dict(LOCKS["app.txt"])
    # Declared but never locked.
    added = {**wanted, "left-pad": Requirement("left-pad>=1")}
    assert disagreements(lock, added) == ["left-pad is in pyproject.toml but not in app.txt"]
    # Locked as ours but no longer declared.
    removed = {name: req for name, req in wanted.items() if name != "segno"}
    assert disagreements(lock, removed) == [
        "segno is locked as a dependency but pyproject.toml lacks it"
    ]
    # A range narrowed past the pinned version.
    narrowed = {**wanted, "segno": Requirement("segno>=99")}
    assert any("outside >=99" in line for line in disagreements(lock, narrowed))
    # A pin without hashes.
    bare = tmp_path / "bare.txt"
    bare.write_text("segno==1.6.6\n    # via chakra-routes (pyproject.toml)\n")
    assert "segno has no hash" in disagreements(bare, {"segno": Requirement("segno")})


def test_dev_lock_pins_the_app_lock_versions():
    # Tests run on exactly the versions production installs.
    app, dev = (
        lockfile.versions(ROOT / "requirements/app.txt"),
        lockfile.versions(ROOT / "requirements/dev.txt"),
    )
    assert {name: dev.get(name) for name in app} == app


def test_build_lock_covers_the_build_system():
    build = lockfile.versions(ROOT / "requirements/build.txt")
    for line in PYPROJECT["build-system"]["requires"]:
        requirement = Requirement(line)
        pinned = build.get(lockfile.normalise(requirement.name), set())
        assert pinned and all(Version(v) in requirement.specifier for v in pinned), line


def test_installs_come_from_the_lock():
    makefile = (ROOT / "Makefile").read_text()
    assert "--require-hashes -r $(LOCK_DEV)" in makefile
    assert "--no-deps --no-build-isolation -e ." in makefile
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "--require-hashes" in dockerfile and "requirements/app.txt" in dockerfile
    assert "--no-deps" in dockerfile
