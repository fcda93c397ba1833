"""The city's streets (街道) and their communities (社区), from a JSON file (`LINLI_AREAS_FILE`,
or the older `MATCHING_AREAS_FILE`):

    {"streets": {"S-siming": {"name": "思明街道", "communities": ["C-001", "C-002"],
                              "residents": {"C-001": 5200}}}}

Matching widens a search to the other communities of a request's street, and a mediation
case climbs to its street; reporting groups figures by street. `residents` (optional, per
community) is the only figure no event carries: reporting divides registered volunteers by it."""
import json
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Areas:
    street_of_community: dict[str, str]
    communities_of_street: dict[str, tuple[str, ...]]
    street_names: dict[str, str] = field(default_factory=dict)
    residents_of_community: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str | None) -> "Areas":
        if not path:
            return cls({}, {})
        streets = json.loads(Path(path).read_text(encoding="utf-8"))["streets"]
        communities = {street: tuple(entry["communities"]) for street, entry in streets.items()}
        return cls({c: street for street, members in communities.items() for c in members}, communities,
                   {street: entry.get("name", street) for street, entry in streets.items()},
                   {c: int(n) for entry in streets.values() for c, n in entry.get("residents", {}).items()})

    def street(self, community: str) -> str | None:
        return self.street_of_community.get(community)

    def neighbours(self, community: str) -> tuple[str, ...]:
        """The other communities of the same street (none when the street is not known)."""
        street = self.street(community)
        return tuple(c for c in self.communities_of_street.get(street, ()) if c != community)
