"""One edit form per console action: a tier change, an agent action, the overview's date range."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone

from oauth_app.tiers import Tier

__all__ = ["DateRangeForm", "TierChangeForm", "AgentActionForm", "MAX_RANGE_DAYS", "DEFAULT_RANGE_DAYS"]

MAX_RANGE_DAYS = 366
DEFAULT_RANGE_DAYS = 14
_DATE = forms.DateInput(attrs={"type": "date"})


class DateRangeForm(forms.Form):
    """``?start=2025-05-01&end=2025-05-14``; missing or invalid values fall back to the last 14 days."""

    start = forms.DateField(required=False, widget=_DATE)
    end = forms.DateField(required=False, widget=_DATE)

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        end = data.get("end") or today
        start = data.get("start") or end - timedelta(days=DEFAULT_RANGE_DAYS - 1)
        if start > end:
            raise forms.ValidationError("The start date is after the end date.")
        if (end - start).days + 1 > MAX_RANGE_DAYS:
            raise forms.ValidationError(f"Choose at most {MAX_RANGE_DAYS} days.")
        data["start"], data["end"] = start, end
        return data

    def dates(self):
        """``(start, end)``: the valid range, or the last 14 days."""
        if self.is_valid():
            return self.cleaned_data["start"], self.cleaned_data["end"]
        end = timezone.localdate()
        return end - timedelta(days=DEFAULT_RANGE_DAYS - 1), end


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
    reason = forms.CharField(max_length=500, required=False, strip=True,
                             widget=forms.TextInput(attrs={"placeholder": "Reason (optional)"}))
