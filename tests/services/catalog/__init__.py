"""Tests of tourism.services.catalog."""
