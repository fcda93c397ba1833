"""Matching's rules, free of I/O: who may take a task, who should, how a burst is staffed, how
an offer is answered and where a dispute goes next."""
