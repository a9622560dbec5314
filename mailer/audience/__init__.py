"""Audience: the people and their lists: subscribers, consent log, double opt-in, imports,
tokens, the coordinator's roster, access, export and erasure.

May import: store, config, errors, locale. Never compose, delivery, check or web.
"""
