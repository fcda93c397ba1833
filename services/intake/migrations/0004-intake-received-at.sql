-- Open311 lists requests by the time they were received.
CREATE INDEX service_request_received_at ON service_request (received_at);
