"""matching's SQL. Every function takes the connection of the current unit of work."""
