from celery import shared_task

from arrears.portal import payments


@shared_task(name="arrears.portal.tasks.close_expired_orders")
def close_expired_orders() -> int:
    """Close orders nobody paid in time, so the owner's page stops waiting for them."""
    return payments.close_expired_orders()
