"""Fixtures for the check tests."""
