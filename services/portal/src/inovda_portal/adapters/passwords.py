"""Password hashes: Argon2id with argon2-cffi's recommended parameters (RFC 9106, low-memory profile)."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_CHARS = 12


class WeakPasswordError(ValueError):
    pass


class Passwords:
    def __init__(self) -> None:
        self._hasher = PasswordHasher()
        # Verified when the user name is unknown, so that a wrong name costs as long as a wrong password.
        self._unknown = self._hasher.hash("an account that does not exist")

    def hash(self, password: str) -> str:
        if len(password) < MIN_PASSWORD_CHARS:
            raise WeakPasswordError(f"a password has at least {MIN_PASSWORD_CHARS} characters")
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        try:
            return self._hasher.verify(stored_hash or self._unknown, password) and stored_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored_hash: str) -> bool:
        return self._hasher.check_needs_rehash(stored_hash)
