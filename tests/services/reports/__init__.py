"""Tests of tourism.services.reports."""
