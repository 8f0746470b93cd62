"""Warehouses: where stock sits and which buyers they reach quickly."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from oms_inventory.domain.errors import InvalidRequest

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")
MAX_NEARBY = 64


@dataclass(frozen=True)
class Warehouse:
    code: str
    display_name: str
    province: str
    city: str
    active: bool = True
    nearby_provinces: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def create(
        cls,
        *,
        code: str,
        display_name: str = "",
        province: str = "",
        city: str = "",
        active: bool = True,
        nearby_provinces: tuple[str, ...] | list[str] = (),
    ) -> Warehouse:
        """A validated warehouse; the display name defaults to the code."""
        code = code.strip()
        if not _CODE.match(code):
            raise InvalidRequest(
                f"warehouse code {code!r} must be 1-32 letters, digits, '-' or '_'",
                metadata={"field": "warehouse.code"},
            )
        nearby = tuple(dict.fromkeys(p.strip() for p in nearby_provinces if p.strip()))
        if len(nearby) > MAX_NEARBY:
            raise InvalidRequest(
                f"at most {MAX_NEARBY} nearby provinces",
                metadata={"field": "warehouse.nearby_provinces"},
            )
        return cls(
            code=code,
            display_name=display_name.strip() or code,
            province=province.strip(),
            city=city.strip(),
            active=active,
            nearby_provinces=nearby,
        )

    def distance_tier(self, province: str) -> int:
        """0 for the same province, 1 + index for a nearby one, a large number otherwise."""
        wanted = province.strip().casefold()
        if not wanted:
            return FAR
        if self.province.casefold() == wanted:
            return 0
        for index, nearby in enumerate(self.nearby_provinces):
            if nearby.casefold() == wanted:
                return 1 + index
        return FAR


FAR = 1_000_000
