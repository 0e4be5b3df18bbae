"""Job delivery: the in-process worker pool (embedded) and Celery (scaled out)."""
