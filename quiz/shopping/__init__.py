"""The shopper's run through a quiz: the flow between sections, preferences, recommendations with
their reasons, the end of a run for every channel (``run.finish``), the profile a finished quiz
keeps, and the signed subject tokens that name a shopper.
"""
