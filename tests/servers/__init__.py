"""Real servers the tests start and throw away: a PostgreSQL cluster, nginx in front of replicas.

Plain modules (no tests here): each starts its server on 127.0.0.1 only, in a temporary
directory, and removes everything it made when its context manager exits, also on failure.
"""
