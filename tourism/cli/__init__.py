"""Flask commands, one module per part of the business; each command runs its writes in one
unit of work (``tourism.unit_of_work``), as views do. ``flask --help`` lists them."""

from __future__ import annotations

from flask import Flask

from . import (
    backup,
    booking,
    channels,
    demo,
    jobs,
    ledger,
    messages,
    operations,
    payments,
    translate,
)


def register(app: Flask) -> None:
    for module in (
        demo,
        booking,
        operations,
        messages,
        payments,
        ledger,
        backup,
        jobs,
        translate,
        channels,
    ):
        module.register(app)
