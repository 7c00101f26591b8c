"""Tests of tourism.services.associations."""
