"""When a timer row that raised is looked at again: after 30 s, then twice as long after each
further failure, at most an hour. Meanwhile the timers go on with the other rows."""
from datetime import datetime, timedelta

FIRST = timedelta(seconds=30)
LONGEST = timedelta(hours=1)


def retry_at(attempts: int, now: datetime) -> datetime:
    """When a row that has now failed `attempts` times (1 or more) is tried again."""
    return now + min(FIRST * 2 ** min(attempts - 1, 16), LONGEST)
