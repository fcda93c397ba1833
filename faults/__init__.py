"""linli's own fault suite (`python -m faults`, `make faults`): the four services under the
supervisor against servers of the suite's own, a load of requests and mediation cases, faults
while it runs, and one JSON document of what was lost, duplicated or dead-lettered."""
