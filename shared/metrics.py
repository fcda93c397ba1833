"""What linli's own Prometheus metrics share: histogram buckets fitted to the latencies they
measure, and the pacing of gauges that cost a query to read."""
import time

# The outbox: milliseconds from a commit to its publish confirmed, a minute (a broker that is down).
OUTBOX_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# A handler: a few milliseconds (a claim and a row) to a minute (a database that stalls).
HANDLER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)
# A delivery: under a second (the inbox), seconds (a gateway, a retry), minutes to hours (retries
# with backoff, quiet hours that hold a message until morning).
DELIVERY_BUCKETS = (0.1, 0.5, 1.0, 5.0, 15.0, 30.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 12 * 3600.0)
# A request's stage: seconds (an offer made at once) to days (a visit booked for next week).
STAGE_BUCKETS = (1.0, 10.0, 60.0, 300.0, 900.0, 3600.0, 4 * 3600.0, 12 * 3600.0, 86400.0, 3 * 86400.0,
                 7 * 86400.0, 14 * 86400.0)


class Pace:
    """Says when a gauge that costs a query may be read again: at most every `seconds`, so that
    a loop that runs at every commit or tick does not scan a table each time."""

    def __init__(self, seconds: float):
        self._seconds = seconds
        self._last = float("-inf")

    def due(self) -> bool:
        now = time.monotonic()
        if now - self._last < self._seconds:
            return False
        self._last = now
        return True
