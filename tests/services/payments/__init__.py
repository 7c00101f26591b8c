"""Tests of tourism.services.payments."""
