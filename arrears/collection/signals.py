"""Signals other apps listen to; collection never imports them (data flows one way, DESIGN.md §4)."""

from django.dispatch import Signal

# Sent by the daily-run task after a run committed; kwargs: as_of (date), summary (dict).
run_finished = Signal()
