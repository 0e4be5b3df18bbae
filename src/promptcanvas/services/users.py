"""Users, API keys, one-time login links and browser sessions."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from promptcanvas.domain.errors import Conflict, InvalidInput, NotFound, Unauthenticated
from promptcanvas.domain.ids import is_valid_id, new_id
from promptcanvas.domain.users import (
    KEY_PREFIX,
    ApiKey,
    User,
    clean_user_name,
    hash_secret,
    new_secret,
)
from promptcanvas.ports.clock import Clock
from promptcanvas.ports.repositories import UowFactory

log = logging.getLogger(__name__)
ADMIN = "admin"
KEY_TOUCH_SECONDS = 60.0


@dataclass(frozen=True)
class NewKey:
    """A created key: the secret is shown once and never stored."""

    key: ApiKey
    secret: str


class UserService:
    """Account use cases."""

    def __init__(self, uow: UowFactory, clock: Clock, *, login_ttl: int, session_ttl: int) -> None:
        self.uow = uow
        self.clock = clock
        self.login_ttl = login_ttl
        self.session_ttl = session_ttl
        self._touched: dict[str, float] = {}  # key hash -> when its last use was written

    def add_user(self, name: str, *, is_admin: bool = False) -> User:
        """Create a user; names are unique."""
        user = User(
            id=new_id(), name=clean_user_name(name), is_admin=is_admin, created_at=self.clock.now()
        )
        with self.uow() as uow:
            if uow.users.get_by_name(user.name) is not None:
                raise Conflict(f"user {user.name!r} exists", {"field": "name"})
            uow.users.add(user)
            uow.commit()
        return user

    def ensure_admin(self) -> tuple[User, bool]:
        """The admin user, created on first start; returns (user, created)."""
        with self.uow() as uow:
            user = uow.users.get_by_name(ADMIN)
            if user is not None:
                return user, False
            user = User(id=new_id(), name=ADMIN, is_admin=True, created_at=self.clock.now())
            uow.users.add(user)
            uow.commit()
        return user, True

    def get_by_name(self, name: str) -> User:
        """A user by name."""
        with self.uow(write=False) as uow:
            user = uow.users.get_by_name(name)
        if user is None:
            raise NotFound(f"no user named {name!r}", {"name": name})
        return user

    def list_users(self) -> list[User]:
        """All users."""
        with self.uow(write=False) as uow:
            return uow.users.all_users()

    def create_key(self, user_name: str, label: str | None = None) -> NewKey:
        """A new API key for a user; only its hash is stored."""
        return self.create_key_for(self.get_by_name(user_name).id, label)

    def create_key_for(self, user_id: str, label: str | None = None) -> NewKey:
        """A new API key for a user by id; only its hash is stored."""
        if label is not None:
            label = label.strip()
            if not label or len(label) > 100 or any(ord(ch) < 32 or ord(ch) == 127 for ch in label):
                raise InvalidInput(
                    "a key name is 1-100 characters without control characters", {"field": "name"}
                )
        secret = new_secret(KEY_PREFIX)
        key = ApiKey(
            id=new_id(),
            user_id=user_id,
            name=label,
            prefix=secret[:12],
            secret_hash=hash_secret(secret),
            created_at=self.clock.now(),
        )
        with self.uow() as uow:
            uow.users.add_key(key)
            uow.commit()
        return NewKey(key, secret)

    def list_keys(self, user_name: str) -> list[ApiKey]:
        """A user's keys (without secrets)."""
        return self.keys_for(self.get_by_name(user_name).id)

    def keys_for(self, user_id: str) -> list[ApiKey]:
        """A user's keys by user id, newest first (without secrets)."""
        with self.uow(write=False) as uow:
            return uow.users.keys(user_id)

    def revoke_key(self, user_id: str, key_id: str) -> None:
        """Revoke one of the user's keys."""
        with self.uow() as uow:
            ok = is_valid_id(key_id) and uow.users.revoke_key(user_id, key_id, self.clock.now())
            if not ok:
                raise NotFound("key not found", {"key_id": key_id})
            uow.commit()

    def authenticate_key(self, secret: str) -> User:
        """The user an API key belongs to."""
        if not secret.startswith(KEY_PREFIX) or len(secret) > 200:
            raise Unauthenticated("invalid API key")
        digest = hash_secret(secret)
        with self.uow(write=False) as uow:
            user = uow.users.user_for_key_hash(digest, self.clock.now())
        if user is None:
            raise Unauthenticated("invalid API key")
        # "Last used" is kept to the minute, so most requests write nothing.
        if time.monotonic() - self._touched.get(digest, -KEY_TOUCH_SECONDS) >= KEY_TOUCH_SECONDS:
            self._touched[digest] = time.monotonic()
            try:
                with self.uow() as uow:
                    uow.users.touch_key(digest, self.clock.now())
                    uow.commit()
            except Exception:  # a busy database must not refuse a valid key
                log.warning("could not record the use of an API key", exc_info=True)
        return user

    def create_login_token(self, user_name: str) -> str:
        """A one-time, short-lived login token for the user."""
        user = self.get_by_name(user_name)
        token = new_secret()
        now = self.clock.now()
        with self.uow() as uow:
            uow.users.add_login_token(
                hash_secret(token), user.id, now, now + timedelta(seconds=self.login_ttl)
            )
            uow.commit()
        return token

    def login_with_token(self, token: str) -> tuple[User, str]:
        """Use a login token once; returns the user and a new session secret."""
        if len(token) > 200:
            raise Unauthenticated("this login link is invalid or has expired")
        now = self.clock.now()
        session = new_secret()
        with self.uow() as uow:
            user = uow.users.consume_login_token(hash_secret(token), now)
            if user is None:
                raise Unauthenticated("this login link is invalid or has expired")
            uow.users.add_session(
                hash_secret(session), user.id, now, now + timedelta(seconds=self.session_ttl)
            )
            uow.commit()
        return user, session

    def user_for_session(self, session: str) -> User | None:
        """The user of a live browser session."""
        if len(session) > 200:
            return None
        with self.uow(write=False) as uow:
            return uow.users.user_for_session(hash_secret(session), self.clock.now())

    def logout(self, session: str) -> None:
        """End a browser session."""
        with self.uow() as uow:
            uow.users.delete_session(hash_secret(session))
            uow.commit()
