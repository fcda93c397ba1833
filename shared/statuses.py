"""A request's status as its publisher sees it (GET /api/v1/requests, Open311, status
webhooks), and which statuses are final. Intake keeps it from matching's events; reporting
counts each step."""
from enum import StrEnum


class RequestStatus(StrEnum):
    RECEIVED = "received"  # also a recurring request between its occurrences
    ASSIGNED = "assigned"
    ESCALATED = "escalated"
    COMPLETED = "completed"
    MISSED = "missed"
    CANCELLED = "cancelled"
    DUPLICATE = "duplicate"  # linked to the same need from another source, never dispatched


# Nothing more happens to a request in these: Open311 shows it closed, and it cannot be cancelled.
FINAL = frozenset({RequestStatus.COMPLETED, RequestStatus.CANCELLED, RequestStatus.DUPLICATE})
