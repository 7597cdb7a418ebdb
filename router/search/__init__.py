"""Stage 3: route search over the snapshot: direct and multi-hop candidates for one pair."""
