"""What the demo content modules share: refund policies and a helper for multi-paragraph texts.

Each experience's stop is (family name or None for the association itself, minutes, texts by
locale).
"""

from __future__ import annotations

#: Refund tiers, most generous first (whole hours, whole percent).
STANDARD_POLICY = [{"hours": 48, "percent": 100}, {"hours": 24, "percent": 50}]
EARLY_START_POLICY = [{"hours": 72, "percent": 100}, {"hours": 24, "percent": 50}]


def paragraphs(*paragraphs: str) -> str:
    return "\n\n".join(paragraphs)
