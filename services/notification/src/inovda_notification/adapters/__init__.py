"""SMTP delivery and the notification service's own MongoDB collections."""
