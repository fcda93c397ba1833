"""reporting: listens to the events on its own and keeps the station statistics."""
