"""Matching's rules, free of I/O: who may take a task, who should, how a burst is staffed, and
the lifecycle of tasks and offers (lifecycle.py, search.py, mediation.py, series.py): what an
answer, a report, a timer or a cancellation decides, as changes and events for the shell to apply."""
