from datetime import UTC, date, datetime

from services.reporting.domain.scope import Scope
from services.reporting.station_metrics import this_month


def test_this_month_is_from_its_first_to_today_on_the_citys_clock():
    # 16:30 UTC on 28 February is already 1 March in Shanghai.
    assert this_month(datetime(2026, 2, 28, 16, 30, tzinfo=UTC), "Asia/Shanghai") == Scope(
        date(2026, 3, 1), date(2026, 3, 1))
    assert this_month(datetime(2026, 3, 17, 3, tzinfo=UTC), "Asia/Shanghai") == Scope(
        date(2026, 3, 1), date(2026, 3, 17))
