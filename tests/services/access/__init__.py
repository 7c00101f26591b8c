"""Tests of tourism.services.access."""
