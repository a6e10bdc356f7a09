"""Inovda's shared package: message contracts, broker topology, messaging helpers and settings."""
