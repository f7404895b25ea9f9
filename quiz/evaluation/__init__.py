"""``flask eval``: recommendation quality measured on public datasets (``recommender.evaluation``)
and on quiz-answer personas against the live quiz (``personas``).
"""
