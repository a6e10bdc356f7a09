"""Password hashing: what it accepts, and that a login's hash does not stall the replica's event loop."""

import asyncio

import pytest

from inovda_portal.adapters.passwords import Passwords, WeakPasswordError

PASSWORD = "sandi-portal-yang-panjang"


async def test_a_hash_verifies_its_own_password_only() -> None:
    passwords = Passwords()
    stored = await passwords.hash(PASSWORD)

    assert await passwords.verify(stored, PASSWORD)
    assert not await passwords.verify(stored, PASSWORD + "!")
    assert not await passwords.verify(None, PASSWORD)  # an unknown account
    assert not await passwords.verify("not a hash", PASSWORD)


async def test_a_short_password_is_refused() -> None:
    with pytest.raises(WeakPasswordError, match="at least 12 characters"):
        await Passwords().hash("pendek")


async def test_the_event_loop_keeps_turning_while_a_password_is_verified() -> None:
    """A hash takes about 0.2 s of two cores: run on the loop, it would stop every page and event meanwhile."""
    passwords = Passwords()
    stored = await passwords.hash(PASSWORD)
    turns = 0
    verifying = True

    async def count_turns() -> None:
        nonlocal turns
        while verifying:
            await asyncio.sleep(0.005)
            turns += 1

    counter = asyncio.create_task(count_turns())
    await asyncio.sleep(0)  # the counter is waiting on the loop before the verify starts
    try:
        started_at = turns
        assert await passwords.verify(stored, PASSWORD)
        turned = turns - started_at
    finally:
        verifying = False
        await counter

    assert turned >= 1
