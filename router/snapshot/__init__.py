"""Stage 2: the graph snapshot: every source's edges, screened, valued and built into one graph.

Built off the request path and swapped in whole; a request uses the snapshot current when it
starts.
"""
