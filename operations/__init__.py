"""`linli`: the operators' command (README, Operations). It talks to the broker and to the
services' APIs; only `linli rebuild` reaches a service's tables, through that service's own code."""
