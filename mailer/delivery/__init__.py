"""Delivery: sending a built issue: the plan, the ledger, the engine and its SMTP workers, the
message factory, DKIM, pacing, dry runs and reports; the durable outbox of service mail (sign-up
confirmations, links, welcomes) and its worker, over the same SMTP transport.

May import: compose (it reads built issues), audience, store, config, errors, locale.
Never check or web.
"""
