"""Beds: the bed registry (regions, providers, locations, units), what is free, CSV onboarding."""
