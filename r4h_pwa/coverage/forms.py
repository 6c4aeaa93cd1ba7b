"""The plan-from-the-queue form: who runs, where and when, for the hero the queue names."""

from wtforms import BooleanField, HiddenField

from ..admin.forms import RunForm


class PlanForm(RunForm):
    """A planned run for one hero, with the confirmation a second mile needs."""

    hero_id = HiddenField()
    confirm = BooleanField("Yes, plan another mile for this hero")
