"""One pydantic model per message: intake messages (from outside systems) and events (Inovda's facts)."""
