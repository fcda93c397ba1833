"""matching: keeps the volunteer roster and assigns each request a volunteer, or escalates it."""
