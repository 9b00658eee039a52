"""gunicorn's settings for `make serve` (read by gunicorn from the working directory)."""

import os


def _cpus() -> int:
    # The CPUs this process may run on (a container's share), not the machine's.
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# gunicorn's rule of thumb: two workers a CPU, plus one, as requests mostly wait on the
# database. WEB_CONCURRENCY (gunicorn's own variable) overrides it.
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * _cpus() + 1)
bind = f"{os.environ.get('HOST') or '127.0.0.1'}:{os.environ.get('PORT') or 5000}"
# Pack builds run in process without a broker; a large one takes seconds, not minutes.
timeout = 120
# Each worker connects to the database itself: an app loaded before the fork would share its
# pool's sockets between workers.
preload_app = False
accesslog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS") or "127.0.0.1"
