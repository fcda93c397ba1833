"""reporting's SQL: `projections` write what events tell, `archive` keeps the events,
`reports` reads the figures. Every function takes a connection (of the current unit of work)."""
