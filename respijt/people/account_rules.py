"""What an account may hold, and what an admin may change on one. No Flask here.

The rules `accounts.create_user` (the CLI's `respijt user create`, the admin's invitation page)
and `update_account` (the admin's user page) share: roles from `ROLES`; the provider roles with
one existing provider and no other role with one; a verwijzer with an organisation; a
coordinator with one or more existing regions. An admin never takes their own admin role away
nor switches themselves off (there would be nobody left to undo it).
"""

from __future__ import annotations

from sqlalchemy import delete, select

from respijt.database import DbSession
from respijt.errors import InvalidInput
from respijt.models import Provider, Region, User, UserRegion, UserRole
from respijt.people.caller import PROVIDER_BOUND_ROLES, ROLES


def _bad(name: str, reason: str) -> InvalidInput:
    return InvalidInput(reason, [{"name": name, "code": "invalid", "reason": reason}])


def checked_account(
    session: DbSession,
    *,
    roles: list[str],
    provider_id: int | None,
    organisation: str | None,
    region_codes: list[str],
) -> list[int]:
    """Refuse (InvalidInput, naming the field) an account the rules do not allow; returns the
    region ids of `region_codes`."""
    if not roles or any(role not in ROLES for role in roles):
        raise _bad(
            "roles",
            "Kies een of meer rollen: aanbieder, meldpunt, verwijzer, coördinator of beheerder.",
        )
    if any(role in PROVIDER_BOUND_ROLES for role in roles):
        if provider_id is None or session.get(Provider, provider_id) is None:
            raise _bad(
                "provider", "Rollen aanbieder en meldpunt horen bij één bestaande aanbieder."
            )
    elif provider_id is not None:
        raise _bad("provider", "Alleen aanbieder- en meldpuntaccounts horen bij een aanbieder.")
    if "verwijzer" in roles and not (organisation or "").strip():
        raise _bad("organisation", "Een verwijzer hoort bij een organisatie.")
    region_ids: list[int] = []
    for code in region_codes:
        region_id = session.scalar(select(Region.id).where(Region.code == code))
        if region_id is None:
            raise _bad("regions", f"Regio '{code}' bestaat niet.")
        region_ids.append(region_id)
    if "coordinator" in roles and not region_ids:
        raise _bad("regions", "Een coördinator hoort bij een of meer regio's.")
    return region_ids


def update_account(
    session: DbSession,
    user: User,
    *,
    roles: list[str],
    provider_id: int | None,
    organisation: str | None,
    region_codes: list[str],
    actor_id: int | None = None,
) -> None:
    """Set a person's roles, provider, organisation and regions under the rules above. A
    session or token acting in a role the person no longer holds stops working at its next
    request (`accounts.resolve_session`, `tokens.read_token`)."""
    if user.id == actor_id and "admin" in user.roles and "admin" not in roles:
        raise _bad("roles", "U kunt uw eigen rol beheerder niet weghalen.")
    region_ids = checked_account(
        session,
        roles=roles,
        provider_id=provider_id,
        organisation=organisation,
        region_codes=region_codes,
    )
    user.provider_id = provider_id
    user.organisation = (organisation or "").strip() or None
    session.execute(delete(UserRole).where(UserRole.user_id == user.id))
    session.execute(delete(UserRegion).where(UserRegion.user_id == user.id))
    session.expire(user, ["role_rows", "region_rows"])
    session.add_all(UserRole(user_id=user.id, role=role) for role in sorted(set(roles)))
    session.add_all(UserRegion(user_id=user.id, region_id=rid) for rid in sorted(set(region_ids)))
    session.flush()
    session.expire(user, ["role_rows", "region_rows"])


def ensure_not_self(user: User, actor_id: int | None) -> None:
    if user.id == actor_id:
        raise _bad("user", "U kunt uw eigen account niet uitschakelen.")
