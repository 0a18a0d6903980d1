"""Signals other apps listen to without this app importing them (no import circle)."""

from django.dispatch import Signal

# Sent by ``services.save_task_template`` around every change of the live checklist, with
# ``template`` and ``by``: the living plan (apps.evaluations) records the checklist before the
# change if it never did, and the changed checklist as its next version after it.
checklist_changing = Signal()
checklist_changed = Signal()
