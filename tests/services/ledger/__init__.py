"""Tests of tourism.services.ledger."""
