"""The shopper's privacy: consent decisions and their explainers, receipts, stored profiles and the
shopper's rights over them, saved quizzes, retention, and email double opt-in.
"""
