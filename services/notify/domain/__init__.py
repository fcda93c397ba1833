"""notify's rules, no I/O: who is told what (messages), when (reminders, quiet hours), in
which language and over which channels (routing)."""
