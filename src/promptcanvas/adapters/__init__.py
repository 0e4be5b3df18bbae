"""Implementations of the ports: database, storage, and later queues and providers."""
