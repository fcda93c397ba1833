"""`linli`: the operators' command (README, Operations). It talks to the broker and to the
services' APIs, never to their tables."""
