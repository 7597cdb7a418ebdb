"""Stage 4: firm pricing of the winners, calibration from what firm quotes revealed, ranking.

Also the batch planner, which runs many requests through the same stages.
"""
