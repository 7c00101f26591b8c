"""Tests of tourism.services.booking."""
