"""gunicorn settings of one Microcred instance behind HAProxy (docs/operating.md).

    gunicorn -c deploy/cluster/gunicorn.conf.py -b 127.0.0.1:8401

Run as many instances as you like, each on its own address, all with the same environment
(``microcred.env``): nothing an instance keeps in its memory is needed by another.
"""

wsgi_app = "app:create_app()"

# Two processes of four threads: most of a request's time is spent waiting on PostgreSQL,
# Redis, S3 or an LMS, so threads keep a core busy; a second process survives a crash of the
# first. Set MICROCRED_DATABASE_POOL_SIZE to the threads (4).
workers = 2
worker_class = "gthread"
threads = 4

# A worker process whose main loop is silent this long (hung as a whole) is killed and
# replaced; a thread waiting on a slow upload does not silence it.
timeout = 60
# SIGTERM (a restart, a deploy): requests in flight get this long to finish. Take the instance
# out of the load balancer first (drain), so no new request arrives meanwhile.
graceful_timeout = 30
# Longer than HAProxy keeps an idle connection to an instance (pool-purge-delay, 5 s), so it is
# always HAProxy that closes one, never a request racing the instance's close.
keepalive = 10

# Microcred logs every request as a JSON line on stdout; gunicorn's own access log would
# repeat it.
accesslog = None
errorlog = "-"
