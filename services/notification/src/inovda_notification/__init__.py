"""Inovda notification service: emails to units, mentors and the innovation office."""
