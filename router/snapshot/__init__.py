"""Stage 2: the graph snapshot: every source's edges, screened, valued and built into one graph.

Built off the request path and swapped in whole; a request uses the snapshot current when it
starts. A source that re-publishes a few edges for what it learnt (a payout fee, a precision, a
learnt price) gets them swapped into a copy of the last snapshot, never a full rebuild, when that
gives exactly what a full build would (:func:`~router.snapshot.screening.screen_steps`).
"""
