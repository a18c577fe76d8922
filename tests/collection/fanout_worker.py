"""The Celery app the worker tests start: config's app on the test's own queue, with the fault it asks for.

What follows a run is left out (`run_finished`'s receivers would send the queued messages, at the
machine's date, and rescore owners): the test compares what the run wrote with a single pass's.

FANOUT_QUEUE names the queue (tests running at once do not take each other's tasks). FANOUT_FAULT
("raise" or "kill") strikes inside a part after its writes, before its commit, once across every
worker: the first part to get there creates FANOUT_FAULT_FILE, which no other can create again.
"""

import os
import signal

from celery.signals import task_prerun

from config.celery import app

app.conf.task_default_queue = os.environ["FANOUT_QUEUE"]


@task_prerun.connect
def _arm(**kwargs) -> None:
    from arrears.collection import run
    from arrears.collection.signals import run_finished

    if getattr(run, "_armed", False):
        return
    run._armed = True
    for uid in ("notices.dispatch_after_run", "insights.after_run"):
        run_finished.disconnect(dispatch_uid=uid)
    fault = os.environ.get("FANOUT_FAULT")
    if not fault:
        return
    real = run.refresh_arrears_summary

    def faulty(**arguments):
        try:
            os.close(os.open(os.environ["FANOUT_FAULT_FILE"], os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return real(**arguments)
        if fault == "kill":
            os.kill(os.getpid(), signal.SIGKILL)  # this worker process dies mid-part, its transaction open
        from django.db import OperationalError

        raise OperationalError("deadlock detected (injected once)")

    run.refresh_arrears_summary = faulty
