"""Tests of the blueprints in tourism.routes."""
