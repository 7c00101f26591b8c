"""Seats and bookings: counting and locking seats, holding, confirming, cancelling, caps,
references."""
