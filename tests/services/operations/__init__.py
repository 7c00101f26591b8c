"""Tests of tourism.services.operations."""
