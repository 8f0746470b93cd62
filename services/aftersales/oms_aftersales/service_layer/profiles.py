"""Customer profiles: read the customer's facts and build the profile."""

from __future__ import annotations

from collections.abc import Callable

from omslib.clock import Clock

from oms_aftersales.adapters.unit_of_work import AftersalesUnitOfWork
from oms_aftersales.domain.customers import CustomerIdentity
from oms_aftersales.domain.errors import CustomerNotFound
from oms_aftersales.domain.issue_codes import Catalogue
from oms_aftersales.domain.profile import Profile, TagRules, build_profile


class ProfileService:
    def __init__(
        self,
        uow_factory: Callable[[], AftersalesUnitOfWork],
        catalogue: Catalogue,
        clock: Clock,
        rules: TagRules | None = None,
    ) -> None:
        self._uow = uow_factory
        self._complaints = frozenset(c.code for c in catalogue.codes.values() if c.complaint)
        self._clock = clock
        self._rules = rules or TagRules()

    async def get(
        self, *, customer_key: str = "", identity: CustomerIdentity | None = None
    ) -> tuple[Profile, CustomerIdentity]:
        async with self._uow() as uow:
            key = None
            if customer_key:
                key = await uow.customers.lookup(customer_key)
            elif identity is not None:
                identity.validate()
                for candidate in identity.identity_keys():
                    key = await uow.customers.lookup(candidate)
                    if key:
                        break
            if key is None:
                raise CustomerNotFound("no customer with that identity")
            orders, tickets, messages = await uow.customers.profile_facts(key, self._complaints)
            profile = build_profile(key, orders, tickets, messages, self._clock.now(), self._rules)
            return profile, await uow.customers.identities(key)
