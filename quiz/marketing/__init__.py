"""What merchants do with consented profiles: segments, taste clusters, campaign exports and the
quiz funnel.
"""
