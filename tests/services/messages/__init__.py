"""Tests of tourism.services.messages."""
