"""Outcomes: what shoppers did in the shop and what they bought, and what the quiz had to do with it.

- ``events``: events of consenting shoppers' profiles (everyone else: anonymous day counters).
- ``orders``: the merchant's orders and their lines, linked to a profile when they lawfully can be.
- ``personal``: what of this is personal data: a shopper's export, erasure and retention.
"""
