"""Compose: an issue folder (front matter, Markdown sections, images) to build/: email.html,
email.txt, web.html and meta.json with `%%marker%%` placeholders; `newsletter new` scaffolds one,
`newsletter init` a whole site folder (whose templates/ overrides the bundled templates).

May import: config, errors, locale. Never audience, delivery, store, check or web.
"""
