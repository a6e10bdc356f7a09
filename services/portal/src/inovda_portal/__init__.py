"""The portal: the innovation office, the mentoring team and every unit see and steer the programme."""
