"""The `inovda` operator command."""
