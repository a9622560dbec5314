"""Fixtures for the subscribers tests."""
