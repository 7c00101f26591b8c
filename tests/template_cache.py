"""One compiled copy of each template for the whole test session.

Every test builds its own app, and each app's Jinja environment compiles every template it
renders from source again: in a profile of the route tests that was a quarter of the time. A
bytecode cache shared by those apps keeps each compiled template, keyed by its name and the
checksum of its source (Jinja checks it), so a changed template is compiled afresh.
"""

from __future__ import annotations

from jinja2 import BytecodeCache


class MemoryBytecodeCache(BytecodeCache):
    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        data = self._store.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()


SHARED = MemoryBytecodeCache()
