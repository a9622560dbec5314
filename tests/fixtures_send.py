"""Fixtures for the send tests."""
