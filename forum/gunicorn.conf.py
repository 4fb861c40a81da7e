"""gunicorn's settings for Lesson Forum: `gunicorn forum.wsgi -c forum/gunicorn.conf.py`.

Sync workers, one request at a time each, two per core: a lesson page is CPU work in Python
(rendering, or joining a cached copy) plus a few short queries, so more threads per worker would
only wait on the interpreter's lock, and a second worker per core keeps the core busy while the
other waits on PostgreSQL or Redis. WEB_CONCURRENCY overrides the count (docs/scaling.md).
"""

import os

workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * (os.cpu_count() or 1))
worker_class = "sync"
threads = 1
timeout = 30
