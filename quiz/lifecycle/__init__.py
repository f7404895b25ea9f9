"""Lifecycle: predictive scores per profile (will order, may leave, worth) and how they are measured.

- ``model``: the pure scoring model (features, training, baselines), no Flask, no database.
- ``evaluation``: ``flask scores eval`` on an invoices file, against the recency and RFM baselines.
- ``scores``: stored scores per profile, computed from linked orders; explained for the admin.
- ``commands``: ``flask scores``.
"""
