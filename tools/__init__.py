"""Research and maintenance tools: corpus checks, round trips, probes and the codec's training. Not shipped
(not in the ``unimt`` package); run from a clone, e.g. ``python -m tools.exact_corpus --split test``."""
