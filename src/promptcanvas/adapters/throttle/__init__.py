"""Throttle and circuit breaker adapters: in-process (embedded) and Redis (shared by every
worker machine)."""
