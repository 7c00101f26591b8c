"""Tests of the flask commands in tourism.cli."""
