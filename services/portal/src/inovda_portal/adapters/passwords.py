"""Password hashes: Argon2id with argon2-cffi's recommended parameters (RFC 9106, low-memory profile: 64 MiB and
about 0.2 s of two cores per hash here).

Hashing runs in worker threads (argon2 releases the GIL), at most `HASHES_AT_ONCE` at a time: a login does not
stall the replica's pages and events for its hash, and a burst of logins holds at most that many times 64 MiB.
"""

import anyio.to_thread
from anyio import CapacityLimiter
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_CHARS = 12
HASHES_AT_ONCE = 2


class WeakPasswordError(ValueError):
    pass


class Passwords:
    def __init__(self) -> None:
        self._hasher = PasswordHasher()
        self._hashing = CapacityLimiter(HASHES_AT_ONCE)
        # Verified when the user name is unknown, so that a wrong name costs as long as a wrong password.
        self._unknown = self._hasher.hash("an account that does not exist")

    async def hash(self, password: str) -> str:
        if len(password) < MIN_PASSWORD_CHARS:
            raise WeakPasswordError(f"a password has at least {MIN_PASSWORD_CHARS} characters")
        return await anyio.to_thread.run_sync(self._hasher.hash, password, limiter=self._hashing)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        return await anyio.to_thread.run_sync(self._verified, stored_hash, password, limiter=self._hashing)

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)

    def _verified(self, stored_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash or self._unknown, password) and stored_hash is not None
        except (VerificationError, InvalidHashError):
            return False
