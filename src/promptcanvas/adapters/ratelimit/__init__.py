"""Rate limiters: in-process (embedded) and Redis (shared by every API replica)."""
