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


def demo_identity(legal_name: str, number: int, town: str, phone_tail: str) -> dict[str, str]:
    """Invented seller details for a demo association, plainly so: the RUC starts with 99,
    which is no province's code (no real RUC does), and pages label them as demo data."""
    return {
        "legal_name": legal_name,
        "tax_id": f"99{number:08d}001",
        "address": f"Dirección de demostración, {town}, Ecuador",
        "contact_phone": f"+593 99 000 {phone_tail}",
    }
