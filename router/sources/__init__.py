"""Calls to sources: the adapter protocol, one quote's calls under its deadline, health
(circuit breakers), background tasks and the firm-quote cache.
"""
