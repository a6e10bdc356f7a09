"""Inovda's submission service: validates, stores and answers every intake message."""
