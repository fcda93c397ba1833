"""The four linli services: intake, matching, notify, reporting."""
