"""Tests of tourism.services.treasury."""
