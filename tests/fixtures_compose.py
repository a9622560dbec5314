"""Fixtures for the compose tests."""
