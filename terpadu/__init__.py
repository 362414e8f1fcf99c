"""Terpadu: the integrated social-welfare registry (DTKS)."""
