"""Gunicorn settings. On 2 cores, 2 sync workers gave the steadiest throughput and latency."""

import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", max(2, multiprocessing.cpu_count())))
worker_class = "sync"
timeout = 30
graceful_timeout = 20
keepalive = 2
accesslog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# Addresses carry secrets (manage, reset and statement links, calendar feeds): the access log
# keeps their shape and drops the tokens (tourism/access_log.py).
logger_class = "tourism.access_log.RedactingLogger"
