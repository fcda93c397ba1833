"""reporting's rules, free of I/O: what each event adds to the figures (`increments`), the
figures that are computed rather than added up (`figures`), periods on the city's clock
(`periods`) and what a report may be asked for (`scope`)."""
