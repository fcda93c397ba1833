"""The city's streets (街道) and their communities (社区), from a JSON file:

    {"streets": {"S-siming": {"name": "思明街道", "communities": ["C-001", "C-002"]}}}

Matching widens a search to the other communities of a request's street, and a mediation
case climbs to its street."""
import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Areas:
    street_of_community: dict[str, str]
    communities_of_street: dict[str, tuple[str, ...]]

    @classmethod
    def load(cls, path: str | None) -> "Areas":
        if not path:
            return cls({}, {})
        streets = json.loads(Path(path).read_text(encoding="utf-8"))["streets"]
        communities = {street: tuple(entry["communities"]) for street, entry in streets.items()}
        return cls({c: street for street, members in communities.items() for c in members}, communities)

    def street(self, community: str) -> str | None:
        return self.street_of_community.get(community)

    def neighbours(self, community: str) -> tuple[str, ...]:
        """The other communities of the same street (none when the street is not known)."""
        street = self.street(community)
        return tuple(c for c in self.communities_of_street.get(street, ()) if c != community)
