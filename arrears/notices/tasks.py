"""Celery tasks of the outbox: thin wrappers over `outbox.dispatch`."""

from celery import shared_task


@shared_task(name="arrears.notices.tasks.dispatch_outbox")
def dispatch_outbox(limit: int = 500) -> dict:
    """Send the messages that are due; beat runs it every minute, the daily run once more after itself."""
    from arrears.notices.outbox import dispatch

    return dict(dispatch(limit=limit))


def after_run(sender, **kwargs) -> None:
    dispatch_outbox.delay()
