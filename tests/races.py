"""Races for PostgreSQL tests: jobs in their own threads and connections, released at once."""

import threading

from django.db import close_old_connections, connection


def race(*jobs, timeout: float = 60):
    """Run each job in its own thread and connection, all released at once; their results or errors."""
    start, results = threading.Barrier(len(jobs)), [None] * len(jobs)

    def run(index, job):
        try:
            start.wait()
            results[index] = job()
        except Exception as error:  # noqa: BLE001 - the race's loser is part of the result
            results[index] = error
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=run, args=(index, job)) for index, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return results
