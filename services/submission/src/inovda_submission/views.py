"""What the submission service knows, as an operator (or a test) asks it: read-only, no side effects."""

from typing import Any

from .adapters.store import SubmissionStore
from .domain.records import innovation_id, profile_id, unit_id

Entity = dict[str, Any]


class SubmissionViews:
    def __init__(self, store: SubmissionStore) -> None:
        self._store = store

    async def unit(self, region_code: str, unit_code: str) -> Entity | None:
        """The unit as its latest accepted message left it."""
        return await self._latest(self._store.units.latest_version(unit_id(region_code, unit_code)))

    async def profile(self, region_code: str, year: int) -> Entity | None:
        return await self._latest(self._store.profiles.latest_version(profile_id(region_code, year)))

    async def innovation(self, source: str, external_id: str) -> Entity | None:
        """The latest revision of an innovation, as reported."""
        return await self._latest(self._store.innovations.latest_version(innovation_id(source, external_id)))

    async def innovation_history(self, source: str, external_id: str) -> list[Entity]:
        """Every revision, oldest first: `{"version", "data", "message_key", ...}`."""
        return await self._store.innovations.history(innovation_id(source, external_id))

    @staticmethod
    async def _latest(reading: Any) -> Entity | None:
        document = await reading
        return dict(document["data"]) if document else None
