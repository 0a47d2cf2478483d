"""Who is at the keyboard: login with password and TOTP, throttling, sessions and roles.

Policy lives here, storage in `storage.console.repo`. An account locks after a few
failures for a time that doubles with each further failure (capped), and an
address that fails too often within a window is refused for a while, so
neither one account nor many accounts can be guessed at speed. TOTP codes are
single use (the last accepted time step is stored). The roles decide pages:
a counsellor works the queue and the cases they took, a supervisor sees every
case, an admin manages users, flows and figures and reads no transcript
unless also a counsellor.
"""

from __future__ import annotations

import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import Enum

import pyotp

from bot.console.auth.passwords import Hasher
from storage.console.repo import ConsoleSession
from storage.records import StaffMember
from storage.store import Store

__all__ = [
    "Access",
    "AuthSettings",
    "Authenticator",
    "IpThrottle",
    "LoginResult",
    "Need",
    "allowed",
    "new_session_id",
    "totp_required",
]

ISSUER = "LK3 Console"


class Need(Enum):
    """What a route asks of the person calling it."""

    PUBLIC = "public"  # login page, static files
    STAFF = "staff"  # any signed-in staff member
    CASES = "cases"  # counsellor or supervisor: queue and cases
    BOOKINGS = "bookings"  # counsellors (their own), supervisors and admins
    OFFICE = "office"  # supervisors and admins: availability, closures, figures
    ADMIN = "admin"  # users, flows


def allowed(need: Need, roles: frozenset[str]) -> bool:
    if need in (Need.PUBLIC, Need.STAFF):
        return True
    if need is Need.CASES:
        return bool(roles & {"counsellor", "supervisor"})
    if need is Need.BOOKINGS:
        return bool(roles & {"counsellor", "supervisor", "admin"})
    if need is Need.OFFICE:
        return bool(roles & {"supervisor", "admin"})
    return "admin" in roles


def can_read_case(roles: frozenset[str], staff_id: int, owner_id: int | None) -> bool:
    """A supervisor reads every case; a counsellor only the cases they took."""
    if "supervisor" in roles:
        return True
    return "counsellor" in roles and owner_id == staff_id


def totp_required(member: StaffMember) -> bool:
    return bool(member.roles & {"admin", "supervisor"})


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class AuthSettings:
    hasher: Hasher = Hasher()
    idle_timeout: timedelta = timedelta(minutes=30)
    absolute_timeout: timedelta = timedelta(hours=12)
    free_failures: int = 5
    first_lock: timedelta = timedelta(seconds=30)
    max_lock: timedelta = timedelta(minutes=30)
    ip_failures: int = 20
    ip_window: timedelta = timedelta(minutes=15)


@dataclass(slots=True)
class IpThrottle:
    """Failed logins per client address in a sliding window (in memory: one process serves)."""

    limit: int
    window: timedelta
    _failures: dict[str, deque[datetime]] = field(default_factory=dict)

    def blocked(self, ip: str, now: datetime) -> bool:
        times = self._failures.get(ip)
        if not times:
            return False
        while times and now - times[0] > self.window:
            times.popleft()
        return len(times) >= self.limit

    def fail(self, ip: str, now: datetime) -> None:
        self._failures.setdefault(ip, deque()).append(now)
        if len(self._failures) > 10_000:  # bounded memory under a spray of addresses
            self._failures.pop(next(iter(self._failures)))


class LoginResult(Enum):
    OK = "ok"
    BAD = "bad"  # wrong user or password: one answer for both
    LOCKED = "locked"  # this account or this address must wait


@dataclass(frozen=True, slots=True)
class Access:
    """The signed-in person, as a request sees them."""

    member: StaffMember
    session_id: str
    stage: str


class Authenticator:
    """Checks passwords and codes against the store, applying the throttling policy."""

    def __init__(self, store: Store, settings: AuthSettings, clock: Callable[[], datetime]) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.ip = IpThrottle(settings.ip_failures, settings.ip_window)

    async def password_login(
        self, username: str, password: str, ip: str
    ) -> tuple[LoginResult, StaffMember | None]:
        now = self.clock()
        hasher = self.settings.hasher
        if self.ip.blocked(ip, now):
            return LoginResult.LOCKED, None
        member = await self.store.staff.by_username(username[:64])
        if member is None or not member.active:
            hasher.verify(None, password)
            self.ip.fail(ip, now)
            return LoginResult.BAD, None
        creds = await self.store.console.credentials(member.id)
        if creds.locked_until > now:
            return LoginResult.LOCKED, None
        if not hasher.verify(creds.password_hash, password):
            self.ip.fail(ip, now)
            await self.store.console.record_failure(
                member.id, self._lock_until(creds.failed_logins + 1, now)
            )
            return LoginResult.BAD, None
        await self.store.console.record_success(member.id)
        return LoginResult.OK, member

    def _lock_until(self, failures: int, now: datetime) -> datetime:
        s = self.settings
        if failures < s.free_failures:
            return now
        lock: timedelta = s.first_lock * (2 ** min(failures - s.free_failures, 20))
        return now + min(lock, s.max_lock)

    async def check_totp(self, member: StaffMember, code: str) -> bool:
        """A current code, not used before; wrong codes count as failed logins."""
        secret = await self.store.console.totp_secret(member.id)
        code = code.strip().replace(" ", "")
        step = self._matching_step(secret, code)
        if step is None:
            creds = await self.store.console.credentials(member.id)
            now = self.clock()
            await self.store.console.record_failure(
                member.id, self._lock_until(creds.failed_logins + 1, now)
            )
            return False
        creds = await self.store.console.credentials(member.id)
        if not creds.totp_confirmed:
            await self.store.console.confirm_totp(member.id, step)
            return True
        return await self.store.console.use_totp_step(member.id, step)

    def _matching_step(self, secret: str | None, code: str) -> int | None:
        if secret is None or not code.isdigit() or len(code) != 6:
            return None
        totp = pyotp.TOTP(secret)
        now = self.clock().timestamp()
        for drift in (0, -1, 1):
            at = now + drift * totp.interval
            if secrets.compare_digest(totp.at(at), code):
                return int(at // totp.interval)
        return None

    async def new_totp_secret(self, member: StaffMember) -> str:
        secret = pyotp.random_base32()
        await self.store.console.set_totp(member.id, secret)
        return secret

    @staticmethod
    def provisioning_uri(member: StaffMember, secret: str) -> str:
        return pyotp.TOTP(secret).provisioning_uri(name=member.username, issuer_name=ISSUER)

    async def resume(self, session_id: str) -> tuple[ConsoleSession, StaffMember] | None:
        """The session behind a cookie, if it has not idled out or outlived its day."""
        if not session_id or len(session_id) > 100:
            return None
        session = await self.store.console.session(session_id)
        if session is None:
            return None
        now = self.clock()
        s = self.settings
        if (
            now - session.last_seen_at > s.idle_timeout
            or now - session.created_at > s.absolute_timeout
        ):
            await self.store.console.end_session(session_id)
            return None
        member = await self.store.staff.get(session.staff_id)
        if member is None or not member.active:
            await self.store.console.end_session(session_id)
            return None
        return session, member
