"""All models, importable from one place so Alembic sees every table."""

from . import seat_counter  # noqa: F401  (the counter's flush hook)
from .audit import AuditEvent, AuditLogIsAppendOnly
from .booking import TRANSITIONS, Booking, BookingLine, BookingStatus, PaymentMethod
from .catalog import (
    Experience,
    ExperienceStatus,
    ExperienceText,
    ExperienceTheme,
    PriceCategory,
    Stop,
    StopText,
)
from .channels import ChannelBooking, Reseller, reseller_experiences
from .ledger import (
    AccountKind,
    AccountState,
    AppendOnlyViolation,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    TransactionKind,
)
from .operations import (
    AuthToken,
    DepartureGuide,
    GuideRole,
    GuideTimeOff,
    Photo,
    ScheduleGuide,
    StopVisit,
)
from .payment import (
    Dispute,
    Notification,
    Payment,
    PaymentStatus,
    ProviderEvent,
    Refund,
    RefundStatus,
)
from .payouts import Payout, PayoutMethod
from .people import Association, Family, Membership, Role, User
from .schedule import Departure, DepartureStatus, Schedule
from .splits import SplitRule

__all__ = [
    "ChannelBooking",
    "Reseller",
    "reseller_experiences",
    "AuditEvent",
    "AuditLogIsAppendOnly",
    "Payout",
    "PayoutMethod",
    "AccountKind",
    "AccountState",
    "AppendOnlyViolation",
    "LedgerAccount",
    "LedgerEntry",
    "LedgerTransaction",
    "TransactionKind",
    "TRANSITIONS",
    "Association",
    "AuthToken",
    "DepartureGuide",
    "GuideRole",
    "GuideTimeOff",
    "Photo",
    "StopVisit",
    "Booking",
    "BookingLine",
    "BookingStatus",
    "Departure",
    "Dispute",
    "Notification",
    "Payment",
    "PaymentStatus",
    "ProviderEvent",
    "Refund",
    "RefundStatus",
    "DepartureStatus",
    "Experience",
    "ExperienceStatus",
    "ExperienceText",
    "ExperienceTheme",
    "Family",
    "Membership",
    "PaymentMethod",
    "PriceCategory",
    "Role",
    "Schedule",
    "ScheduleGuide",
    "SplitRule",
    "Stop",
    "StopText",
    "User",
]
