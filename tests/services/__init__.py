"""Tests of tourism.services, one package per room."""
