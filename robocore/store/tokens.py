"""API tokens (only their hash is stored) and the robots granted to agent groups."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine, RowMapping, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from robocore.errors import RobocoreError
from robocore.store.models import api_tokens as TOKENS
from robocore.store.models import grants as GRANTS
from robocore.store.models import utcnow
from robocore.store.rows import ApiToken, Grant, HashedToken


class Conflict(RobocoreError):
    """A row with the same unique name already exists."""


def _token(row: RowMapping) -> ApiToken:
    return ApiToken(id=row["id"], name=row["name"], role=row["role"], groups=tuple(row["groups"] or ()),
                    created_at=row["created_at"], last_used_at=row["last_used_at"], revoked_at=row["revoked_at"],
                    expires_at=row["expires_at"])


class TokensMixin:
    """The Store's API tokens and grants."""

    engine: Engine

    # ---- tokens ---------------------------------------------------------------------
    def add_token(self, name: str, role: str, token_hash: str, lookup: str, groups: list[str],
                  expires_at: datetime | None = None) -> None:
        """Record a token (only its hash), valid until `expires_at` (naive UTC; None: no expiry);
        a duplicate name is a Conflict."""
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(TOKENS).values(name=name, role=role, token_hash=token_hash, lookup=lookup,
                                                   groups=groups, created_at=utcnow(), expires_at=expires_at))
        except IntegrityError:
            raise Conflict(name) from None

    def token_by_lookup(self, lookup: str) -> HashedToken | None:
        """The token whose secret starts with `lookup`, with its hash to verify it."""
        with self.engine.begin() as conn:
            row = conn.execute(select(TOKENS).where(TOKENS.c.lookup == lookup)).mappings().first()
        return HashedToken(_token(row), row["token_hash"]) if row else None

    def token_by_name(self, name: str) -> ApiToken | None:
        """A token by its unique name."""
        with self.engine.begin() as conn:
            row = conn.execute(select(TOKENS).where(TOKENS.c.name == name)).mappings().first()
        return _token(row) if row else None

    def list_tokens(self, limit: int | None = None, offset: int = 0) -> list[ApiToken]:
        """Tokens, oldest first: `limit` of them after the first `offset` (None: all)."""
        query = select(TOKENS).order_by(TOKENS.c.id).limit(limit).offset(offset)
        with self.engine.begin() as conn:
            rows = conn.execute(query).mappings().all()
        return [_token(r) for r in rows]

    def revoke_token(self, name: str) -> bool:
        """Mark a token revoked; False when no live token has that name."""
        with self.engine.begin() as conn:
            result = conn.execute(update(TOKENS).where(TOKENS.c.name == name, TOKENS.c.revoked_at.is_(None))
                                  .values(revoked_at=utcnow()))
        return result.rowcount == 1

    def touch_token(self, token_id: int) -> None:
        """Record that a token was just used."""
        with self.engine.begin() as conn:
            conn.execute(update(TOKENS).where(TOKENS.c.id == token_id).values(last_used_at=utcnow()))

    # ---- grants ---------------------------------------------------------------------
    def add_grant(self, robot: str, group: str) -> bool:
        """Let a group see and launch a robot; False when it already could."""
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(GRANTS).values(robot=robot, group_name=group))
            return True
        except IntegrityError:
            return False

    def remove_grant(self, robot: str, group: str) -> bool:
        """Stop a group from using a robot; False when it could not."""
        with self.engine.begin() as conn:
            result = conn.execute(delete(GRANTS).where(GRANTS.c.robot == robot, GRANTS.c.group_name == group))
        return result.rowcount == 1

    def list_grants(self, limit: int | None = None, offset: int = 0) -> list[Grant]:
        """Grants by robot then group: `limit` of them after the first `offset` (None: all)."""
        query = (select(GRANTS.c.robot, GRANTS.c.group_name).order_by(GRANTS.c.robot, GRANTS.c.group_name)
                 .limit(limit).offset(offset))
        with self.engine.begin() as conn:
            return [Grant(robot=r, group=g) for r, g in conn.execute(query).all()]

    def granted_robots(self, groups: list[str]) -> set[str]:
        """Robots any of these groups may use."""
        if not groups:
            return set()
        query = select(GRANTS.c.robot).where(GRANTS.c.group_name.in_(groups))
        with self.engine.begin() as conn:
            return set(conn.execute(query).scalars())
