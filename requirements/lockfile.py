"""Read the lock files (``uv pip compile`` output) and compare two of them.

    python requirements/lockfile.py OLD NEW [OLD NEW ...]   -> what would change, per pair

Used by ``make outdated`` and by tests/test_lock_files.py.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

#: ``name==version ; marker \`` at the start of a line; hashes and comments follow.
PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)"
    r"(?:\s*;\s*(?P<marker>[^\\]+?))?\s*\\?$"
)
PROJECT = "chakra-routes (pyproject.toml)"


def normalise(name: str) -> str:
    """PEP 503 names: ``Flask_WTF`` and ``flask-wtf`` are one package."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_lock(path: str | Path) -> list[dict]:
    """Every pin of a lock file: name, version, marker, hashes, and what asked for it."""
    pins: list[dict] = []
    via_block = False
    for line in Path(path).read_text().splitlines():
        match = PIN.match(line)
        if match:
            pins.append(
                {
                    "name": normalise(match["name"]),
                    "version": match["version"],
                    "marker": (match["marker"] or "").strip(),
                    "hashes": [],
                    "via": [],
                }
            )
            via_block = False
            continue
        stripped = line.strip()
        if not pins:
            continue
        if stripped.startswith("--hash="):
            pins[-1]["hashes"].append(stripped.removeprefix("--hash=").rstrip(" \\"))
        elif stripped.startswith("# via"):
            rest = stripped.removeprefix("# via").strip()
            via_block = not rest
            if rest:
                pins[-1]["via"].append(rest)
        elif via_block and stripped.startswith("#   "):
            pins[-1]["via"].append(stripped.removeprefix("#").strip())
    return pins


def versions(path: str | Path) -> dict[str, set[str]]:
    """name → the versions pinned (two under different markers is possible)."""
    found: dict[str, set[str]] = {}
    for pin in read_lock(path):
        found.setdefault(pin["name"], set()).add(pin["version"])
    return found


def changes(old: str | Path, new: str | Path) -> list[str]:
    """Lines saying what moving from ``old`` to ``new`` would add, remove or upgrade."""
    before, after = versions(old), versions(new)
    lines = []
    for name in sorted(before.keys() | after.keys()):
        was, will = before.get(name, set()), after.get(name, set())
        if was != will:
            lines.append(
                f"{name}: {', '.join(sorted(was)) or '(not locked)'} -> "
                f"{', '.join(sorted(will)) or '(dropped)'}"
            )
    return lines


def main(paths: list[str]) -> int:
    if not paths or len(paths) % 2:
        print(__doc__, file=sys.stderr)
        return 2
    total = 0
    for old, new in zip(paths[::2], paths[1::2], strict=True):
        lines = changes(old, new)
        total += len(lines)
        print(f"{old}: {len(lines) or 'nothing'} to change")
        for line in lines:
            print(f"  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
