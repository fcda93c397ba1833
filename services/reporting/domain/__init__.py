"""reporting's rules, free of I/O: what each event adds to the figures (`increments`), the
figures that are computed rather than added up (`figures`), periods on the city's clock
(`periods`), what a report may be asked for (`scope`) and what of staff's words it never
keeps (`notes`)."""
