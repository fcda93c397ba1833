"""Days and weeks on the city's clock (`LINLI_TIMEZONE`), not the server's nor UTC's."""
from datetime import date, datetime, timedelta, tzinfo


def day_of(moment: datetime, timezone: tzinfo) -> date:
    """The city's date at `moment` (an aware time)."""
    return moment.astimezone(timezone).date()


def week_of(day: date) -> date:
    """The Monday of the week `day` is in (as ISO and PostgreSQL's date_trunc count)."""
    return day - timedelta(days=day.weekday())
