"""The repeat rule for deliveries cut off by a crash (shared/deliveries.py): sent again at most once."""
from datetime import UTC, datetime, timedelta

import pytest

from shared.deliveries import MAX_REPEATS, Claim, claim, stale_before


@pytest.mark.parametrize(("status", "repeats", "expected"), [
    ("pending", 0, Claim.SEND),  # due: its first call
    ("pending", 1, Claim.SEND),  # a refusal after a repeat is retried like any refusal (the receiver said no)
    ("sending", 0, Claim.REPEAT),  # its sender died mid-call: once more, same id
    ("sending", MAX_REPEATS, Claim.GIVE_UP),  # died again: never a third call
    ("sending", MAX_REPEATS + 3, Claim.GIVE_UP),
])
def test_a_delivery_cut_off_by_a_crash_is_repeated_once_then_given_up(status, repeats, expected):
    assert claim(status, repeats) == expected


@pytest.mark.parametrize("status", ["sent", "failed", "cancelled"])
def test_a_finished_delivery_is_never_claimed(status):
    with pytest.raises(ValueError, match="not due"):
        claim(status, 0)


def test_a_row_is_stale_only_once_a_live_sender_would_have_finished_its_call():
    now = datetime(2026, 1, 1, tzinfo=UTC)
    assert stale_before(now, 5.0) == now - timedelta(seconds=15)  # three calls' time: a live one has finished
    assert stale_before(now, 2.0) == now - timedelta(seconds=6)
