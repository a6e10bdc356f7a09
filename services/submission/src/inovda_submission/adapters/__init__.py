"""MongoDB storage of units, region profiles and innovations with their revision history."""
