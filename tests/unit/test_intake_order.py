"""The order rule of a request and its cancellations (domain.on_cancel, status_on_arrival),
over every order hypothesis finds: the end state is the one of the natural order."""
from hypothesis import given
from hypothesis import strategies as st

from services.intake.domain import OnCancel, on_cancel, status_on_arrival
from shared.statuses import RequestStatus

SUBMIT, CANCEL = "submit", "cancel"


def end_state(order: list[str], linked: bool) -> tuple[RequestStatus | None, int, int]:
    """(the request's status, cancellations applied, cancellations refused) after `order`, all
    within the wait, the way submissions.py applies the two rules."""
    status, waiting, cancelled, refused = None, False, 0, 0
    for step in order:
        if step == SUBMIT:
            status = status_on_arrival(linked, waiting)
            if waiting:
                cancelled, refused = (cancelled + 1, refused) if status == RequestStatus.CANCELLED else (cancelled,
                                                                                                        refused + 1)
            waiting = False
            continue
        decision = on_cancel(status, waiting)
        waiting = waiting or decision == OnCancel.WAIT
        cancelled += decision == OnCancel.CANCEL
        refused += decision == OnCancel.REFUSE
        if decision == OnCancel.CANCEL:
            status = RequestStatus.CANCELLED
    return status, cancelled, refused


@st.composite
def orders(draw) -> list[str]:
    cancels = draw(st.integers(min_value=0, max_value=4))
    return draw(st.permutations([SUBMIT] + [CANCEL] * cancels))


@given(orders(), st.booleans())
def test_a_request_and_its_cancellations_end_the_same_in_any_order(order, linked):
    natural = [SUBMIT] + [step for step in order if step == CANCEL]
    assert end_state(order, linked) == end_state(natural, linked)


@given(orders())
def test_a_request_is_cancelled_once_and_every_other_cancellation_refused(order):
    cancels = order.count(CANCEL)
    status, cancelled, refused = end_state(order, linked=False)
    assert (status, cancelled, refused) == ((RequestStatus.CANCELLED, 1, cancels - 1) if cancels
                                            else (RequestStatus.RECEIVED, 0, 0))


@given(orders())
def test_a_linked_request_refuses_every_cancellation_whatever_came_first(order):
    assert end_state(order, linked=True) == (RequestStatus.DUPLICATE, 0, order.count(CANCEL))


def test_a_cancellation_waits_only_for_a_request_not_yet_there_and_only_one_waits():
    assert on_cancel(None, waiting=False) == OnCancel.WAIT
    assert on_cancel(None, waiting=True) == OnCancel.REFUSE
    for status in RequestStatus:
        expected = OnCancel.REFUSE if status in ("completed", "cancelled", "duplicate") else OnCancel.CANCEL
        assert on_cancel(status, waiting=False) == expected
