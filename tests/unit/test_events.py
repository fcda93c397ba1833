"""The events' own rules."""
import pytest
from pydantic import ValidationError

from shared.events import RequestRejected


def test_an_event_time_without_an_offset_is_refused():
    with pytest.raises(ValidationError, match="occurred_at"):
        RequestRejected.model_validate({"correlation_id": "c", "reason": "r", "submission": "request.submit",
                                        "occurred_at": "2026-01-01T17:00:00"})
    assert RequestRejected.model_validate({"correlation_id": "c", "reason": "r", "submission": "request.submit",
                                           "occurred_at": "2026-01-01T17:00:00+08:00"}).occurred_at.utcoffset()
