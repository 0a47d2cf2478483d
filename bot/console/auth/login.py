"""Who is at the keyboard: login with password and TOTP, throttling, sessions and roles.

Policy lives here, storage in `storage.console.repo`. The two steps count their
failures apart, so a guesser who knows a password cannot lock the real user out
at the password step:

- password: per account, a few free failures, then a lock that doubles with each
  further failure (capped at minutes); per client address (an IPv6 client by its
  /64), a limit in a window. The address's limit slows strangers down but never
  refuses the right password (and then code) of an account with no failure of its
  own, so a flood of made-up names from a shared address locks nobody out.
  Each attempt is counted before it is checked (one UPDATE … RETURNING for an
  account), so concurrent guesses meet the same limits as guesses one by one.
  A name nobody has gets the same answers and the same lock, and costs the same
  hash, so neither message nor timing tells which names exist. The address and
  unknown-name counters are in the database (`storage.console.throttle`), like the
  accounts', so several processes on one database share one limit.
- second factor: a half-signed-in session allows a few wrong codes, then it is void
  and the password must be given again; the account has its own short, growing
  lock (an audit row when it starts: the password is known to someone); the
  address has its own limit. A code is single use (the last accepted time step is
  stored), so a code seen over a shoulder cannot be replayed.

Every role that reads or manages anything (counsellor, supervisor, admin) enrols
a second factor at first login. The roles decide pages: a counsellor works the
queue and the cases they took, a supervisor sees every case, an admin manages
users, flows and figures and reads no transcript unless also a counsellor.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

import pyotp

from bot.clientaddr import network_key
from bot.console.auth.passwords import Hasher
from bot.console.auth.throttle import AddressThrottle, LockPolicy
from bot.digits import digits
from storage.console.repo import ConsoleSession, LockSteps
from storage.privacy.audit import AuditEntry
from storage.records import StaffMember
from storage.store import Store

__all__ = [
    "Access",
    "AuthSettings",
    "Authenticator",
    "AddressThrottle",
    "LoginResult",
    "Need",
    "SecondFactor",
    "allowed",
    "new_session_id",
    "totp_required",
]

ISSUER = "LK3 Console"
# Everyone who reads transcripts or manages the console has a second factor.
SECOND_FACTOR_ROLES = frozenset({"counsellor", "supervisor", "admin", "province_supervisor"})
# Password hashes verified at once (each in a thread, ~19 MiB): the machine's cores are
# for the families' messages first.
HASHING_AT_ONCE = 2


class Need(Enum):
    """What a route asks of the person calling it."""

    PUBLIC = "public"  # login page, static files
    STAFF = "staff"  # any signed-in staff member
    CASES = "cases"  # counsellor or supervisor: queue and cases
    BOOKINGS = "bookings"  # counsellors (their own), supervisors and admins
    OFFICE = "office"  # supervisors and admins: availability, closures, figures
    ADMIN = "admin"  # users, flows
    PROVINCE = "province"  # province supervisors: counts across offices, never a case


def allowed(need: Need, roles: frozenset[str]) -> bool:
    if need in (Need.PUBLIC, Need.STAFF):
        return True
    if need is Need.CASES:
        return bool(roles & {"counsellor", "supervisor"})
    if need is Need.BOOKINGS:
        return bool(roles & {"counsellor", "supervisor", "admin"})
    if need is Need.OFFICE:
        return bool(roles & {"supervisor", "admin"})
    if need is Need.PROVINCE:
        return "province_supervisor" in roles
    return "admin" in roles


def can_read_case(roles: frozenset[str], staff_id: int, owner_id: int | None) -> bool:
    """A supervisor reads every case; a counsellor only the cases they took."""
    if "supervisor" in roles:
        return True
    return "counsellor" in roles and owner_id == staff_id


def totp_required(member: StaffMember) -> bool:
    return bool(member.roles & SECOND_FACTOR_ROLES)


def _steps(policy: LockPolicy) -> LockSteps:
    micros = timedelta(microseconds=1)
    return LockSteps(policy.free, policy.first // micros, policy.longest // micros)


def new_session_id() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class AuthSettings:
    hasher: Hasher = Hasher()
    idle_timeout: timedelta = timedelta(minutes=30)
    absolute_timeout: timedelta = timedelta(hours=12)
    # The password step.
    free_failures: int = 5
    first_lock: timedelta = timedelta(seconds=30)
    max_lock: timedelta = timedelta(minutes=15)
    ip_failures: int = 20
    ip_window: timedelta = timedelta(minutes=15)
    # The second step, counted apart.
    totp_session_failures: int = 5  # then the half-signed-in session is void
    totp_free_failures: int = 5
    totp_first_lock: timedelta = timedelta(seconds=30)
    totp_max_lock: timedelta = timedelta(minutes=15)
    totp_ip_failures: int = 10

    @property
    def password_policy(self) -> LockPolicy:
        return LockPolicy(self.free_failures, self.first_lock, self.max_lock)

    @property
    def totp_policy(self) -> LockPolicy:
        return LockPolicy(self.totp_free_failures, self.totp_first_lock, self.totp_max_lock)


class LoginResult(Enum):
    OK = "ok"
    BAD = "bad"  # wrong user or password: one answer for both
    LOCKED = "locked"  # this name or this address must wait


class SecondFactor(Enum):
    OK = "ok"
    BAD = "bad"  # wrong or already used code
    LOCKED = "locked"  # this account or address must wait before the next code is checked
    RESTART = "restart"  # too many wrong codes in this session: it is void, sign in again


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
        self.ip = AddressThrottle(store, "password", settings.ip_failures, settings.ip_window)
        self.totp_ip = AddressThrottle(store, "totp", settings.totp_ip_failures, settings.ip_window)
        self._hashing = asyncio.Semaphore(HASHING_AT_ONCE)

    async def password_login(
        self, username: str, password: str, ip: str
    ) -> tuple[LoginResult, StaffMember | None]:
        """Every attempt is counted as failed before its password is checked (account,
        unknown name and address alike), so a burst of concurrent guesses meets the same
        limits as guesses one by one; a right password takes its count back.

        An address at its limit is refused, except for an account (or unknown name) with
        no failure of its own: its password is still checked, once, so strangers sharing
        an address (a proxy, an office's NAT) cannot lock the real user out. One hash is
        verified on every path but a refusal at such an address, known name or not."""
        now = self.clock()
        address = network_key(ip)
        crowded = not await self.ip.reserve(address, now)
        name = username[:64]
        member = await self.store.staff.by_username(name)
        if member is None or not member.active:
            if not await self.store.login_throttle.reserve_name(
                name, now, _steps(self.settings.password_policy), only_if_clean=crowded
            ):
                return await self._refused(crowded, address, now, password)
            await self._verify(None, password)
            return (LoginResult.LOCKED if crowded else LoginResult.BAD), None
        reserved = await self.store.console.reserve_login(
            member.id, now, _steps(self.settings.password_policy), only_if_clean=crowded
        )
        if reserved is None:
            return await self._refused(crowded, address, now, password)
        if not await self._verify(reserved.password_hash, password):
            return (LoginResult.LOCKED if crowded else LoginResult.BAD), None
        if not crowded:
            await self.ip.release(address, now)
        await self.store.console.record_success(member.id)
        stored = reserved.password_hash
        if stored is not None and self.settings.hasher.needs_upgrade(stored):
            async with self._hashing:
                better = await asyncio.to_thread(self.settings.hasher.rehash, password)
            await self.store.console.upgrade_password(member.id, stored, better)
        return LoginResult.OK, member

    async def _refused(
        self, crowded: bool, address: str, now: datetime, password: str
    ) -> tuple[LoginResult, None]:
        """A locked name: it costs the hash a wrong password would (not at a crowded
        address, which answers at once whatever the name), and not the address's count."""
        if not crowded:
            await self.ip.release(address, now)
            await self._verify(None, password)
        return LoginResult.LOCKED, None

    async def _verify(self, stored: str | None, password: str) -> bool:
        """One hash (a dummy one when `stored` is None), in a thread and at most
        `HASHING_AT_ONCE` at a time: a flood of sign-ins never stalls the event loop
        that carries the families' messages."""
        async with self._hashing:
            return await asyncio.to_thread(self.settings.hasher.verify, stored, password)

    async def second_factor(self, access: Access, code: str, ip: str) -> SecondFactor:
        """Checks a code in a half-signed-in (or enrolling) session, within every limit.

        Like the password, the attempt is counted first; an address at its limit is
        refused unless the account has no wrong code on record."""
        now = self.clock()
        member = access.member
        address = network_key(ip)
        crowded = not await self.totp_ip.reserve(address, now)
        reserved = await self.store.console.reserve_totp(
            member.id, now, _steps(self.settings.totp_policy), only_if_clean=crowded
        )
        if reserved is None:
            if not crowded:
                await self.totp_ip.release(address, now)
            return SecondFactor.LOCKED
        if await self.check_totp(member, code):
            if not crowded:
                await self.totp_ip.release(address, now)
            await self.store.console.record_totp_success(member.id)
            return SecondFactor.OK
        locked = reserved.locked_until > now
        if locked:
            await self.store.audit.record(
                AuditEntry(
                    "system",
                    "login_second_factor_locked",
                    f"staff:{member.id}",
                    f"{reserved.failures} wrong second-factor codes in a row after a right"
                    " password",
                )
            )
        in_session = await self.store.console.session_failure(access.session_id)
        if in_session >= self.settings.totp_session_failures:
            await self.store.console.end_session(access.session_id)
            return SecondFactor.RESTART
        return SecondFactor.LOCKED if locked or crowded else SecondFactor.BAD

    async def check_totp(self, member: StaffMember, code: str) -> bool:
        """A current code, not used before (the first right one confirms an enrolment).

        No throttling here: `second_factor` is the way in for a request."""
        secret = await self.store.console.totp_secret(member.id)
        code = code.strip().replace(" ", "")
        step = self._matching_step(secret, code)
        if step is None:
            return False
        creds = await self.store.console.credentials(member.id)
        if not creds.totp_confirmed:
            await self.store.console.confirm_totp(member.id, step)
            return True
        return await self.store.console.use_totp_step(member.id, step)

    def _matching_step(self, secret: str | None, code: str) -> int | None:
        if secret is None or not digits(code) or len(code) != 6:
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
