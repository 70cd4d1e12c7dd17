"""Benchmarks and the national-scale data generator (see README, "Performance")."""
