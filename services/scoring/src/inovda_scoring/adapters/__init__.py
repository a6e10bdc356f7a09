"""The scoring service's storage in MongoDB, and its metrics."""
