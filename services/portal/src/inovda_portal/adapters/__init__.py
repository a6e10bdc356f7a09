"""Storage (MongoDB), the intake publisher, password hashing, exports, metrics."""
