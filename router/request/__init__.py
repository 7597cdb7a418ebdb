"""Stage 1: the caller's input becomes a validated :class:`~router.model.QuoteRequest`."""
