"""The scoring service's own read model in MongoDB."""
