"""Bounces and complaints: the VERP return path, reading reports (IMAP, .eml, mbox, Maildir),
classifying them (RFC 3464, RFC 5965, flufl.bounce) and acting on them (the list policy).

Part of the delivery wing: may import audience (to change subscriptions), store, config, errors.
"""
