"""Compose: an issue folder (front matter, Markdown sections, images) to build/: email.html,
email.txt, web.html and meta.json with `%%marker%%` placeholders; `newsletter new` scaffolds one.

May import: config, errors, locale. Never audience, delivery, store, check or web.
"""
