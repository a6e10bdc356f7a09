"""Inovda scoring service: scores innovations and keeps each region's IID."""
