"""One edit form per console action: a tier change, an agent action, the overview's date range."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.core.validators import MaxValueValidator
from django.utils import timezone

from oauth_app.tiers import Tier

from .metrics import LAST_DAY

__all__ = ["DayField", "DateRangeForm", "TierChangeForm", "AgentActionForm", "MAX_RANGE_DAYS", "DEFAULT_RANGE_DAYS",
           "RANGE_PRESETS", "PersonActionForm", "PERSON_ACTIONS"]

MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 7
#: The overview's range presets: name → (label, hours or None, days or None).
RANGE_PRESETS = {"24h": ("24 h", 24, None), "7d": ("7 days", None, 7), "30d": ("30 days", None, 30), "90d": ("90 days", None, 90)}
DEFAULT_PRESET = "7d"
_DATE = forms.DateInput(attrs={"type": "date"})


class DayField(forms.DateField):
    """A day the console can turn into a time range (:func:`console.metrics.day_bounds`): a date
    after ``LAST_DAY`` is a field error like any invalid date, never an overflow later."""

    widget = _DATE
    default_validators = [MaxValueValidator(LAST_DAY, f"Enter a date no later than {LAST_DAY.isoformat()}.")]


class DateRangeForm(forms.Form):
    """``?range=24h|7d|30d|90d`` or ``?start=2025-05-01&end=2025-05-14``; missing values give the
    default preset (the last 7 days), invalid ones an error shown above the (default) report."""

    range = forms.ChoiceField(required=False, choices=[("", "Custom")] + [(k, v[0]) for k, v in RANGE_PRESETS.items()])
    start = DayField(required=False, label="From")
    end = DayField(required=False, label="To")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        if data.get("range") or not (data.get("start") or data.get("end")):
            return data
        today = timezone.localdate()
        end = data.get("end") or today
        start = data.get("start") or end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
        if start > end:
            raise forms.ValidationError("The start date is after the end date.")
        if (end - start).days + 1 > MAX_RANGE_DAYS:
            raise forms.ValidationError(f"Choose at most {MAX_RANGE_DAYS} days.")
        data["start"], data["end"] = start, end
        return data

    def choice(self) -> tuple[str, int | None, tuple | None]:
        """``(preset, hours, (start, end))``: the chosen preset ("" for custom dates) and either a
        number of hours or an inclusive range of days; the default preset when the form is invalid."""
        preset = DEFAULT_PRESET
        if self.is_bound and self.is_valid():
            if self.cleaned_data.get("start") and not self.cleaned_data.get("range"):
                return "", None, (self.cleaned_data["start"], self.cleaned_data["end"])
            preset = self.cleaned_data.get("range") or DEFAULT_PRESET
        _, hours, days = RANGE_PRESETS[preset]
        if hours:
            return preset, hours, None
        end = timezone.localdate()
        return preset, None, (end - timedelta(days=days - 1), end)

    def dates(self):
        """``(start, end)`` of a day range (the preset's days for a preset; kept for callers of day ranges)."""
        _, hours, days = self.choice()
        if days:
            return days
        end = timezone.localdate()
        return end - timedelta(days=1), end


class TierChangeForm(forms.Form):
    tier = forms.ChoiceField(choices=[(t.value, t.label) for t in Tier if t != Tier.SERVICE])
    reason = forms.CharField(
        max_length=500, strip=True, widget=forms.Textarea(attrs={"rows": 2, "placeholder": "Why? (kept in the audit trail)"}),
        help_text="Required. Shown in the person's history.",
    )

    def __init__(self, *args, current_tier: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.current_tier = current_tier
        if current_tier and not self.is_bound:
            self.initial.setdefault("tier", current_tier)

    def clean_tier(self):
        tier = self.cleaned_data["tier"]
        if tier == self.current_tier:
            raise forms.ValidationError("That is already this person's tier.")
        return tier


class AgentActionForm(forms.Form):
    reason = forms.CharField(max_length=500, required=False, strip=True, label="Reason (optional)",
                             widget=forms.TextInput(attrs={"placeholder": "e.g. leaked token"}))


#: The account actions on a person: action → (label, service function name, reason required).
PERSON_ACTIONS = {
    "sign-out": ("Sign out everywhere", "sign_out_everywhere", False),
    "revoke-tokens": ("Revoke all their agents' tokens", "revoke_all_tokens", False),
    "reset-2fa": ("Reset two-factor", "reset_two_factor", True),
    "suspend": ("Suspend", "suspend_person", True),
    "reinstate": ("Reinstate", "reinstate_person", False),
}


class PersonActionForm(forms.Form):
    action = forms.ChoiceField(choices=[(k, v[0]) for k, v in PERSON_ACTIONS.items()])
    reason = forms.CharField(max_length=500, required=False, strip=True, label="Reason",
                             widget=forms.TextInput(attrs={"id": "id_action_reason"}),
                             help_text="Kept in the audit trail. Required to suspend or reset two-factor.")

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action and PERSON_ACTIONS[action][2] and not data.get("reason"):
            self.add_error("reason", f"Give a reason to {PERSON_ACTIONS[action][0].lower()}.")
        return data
