"""The holiday arrangement in the admin: staff enter the State Council's notice for a year and confirm it.

The form refuses, with the reason, an arrangement that leaves a statutory day as a working day,
puts a 调休 working day on a weekday, or lists dates outside its year; `arrangements.save_arrangement`
records who entered and who confirmed it. A confirmed arrangement is not deleted: untick
"已确认" to return the year to the fail-closed presumption.
"""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from arrears.collection import arrangements
from arrears.collection.holidays import statutory_days
from arrears.collection.models import HolidayArrangement
from arrears.core.errors import DomainError


class HolidayArrangementForm(forms.ModelForm):
    class Meta:
        model = HolidayArrangement
        fields = ["year", "notice_date", "notice_reference", "days_off", "working_days", "confirmed"]

    def _post_clean(self):
        super()._post_clean()  # copies the cleaned values onto the instance first
        if not self.errors:
            found = arrangements.problems(self.instance)
            if found:
                self.add_error(None, [DomainError(zh, en).localized for zh, en in found])


@admin.register(HolidayArrangement)
class HolidayArrangementAdmin(admin.ModelAdmin):
    form = HolidayArrangementForm
    list_display = ["year", "confirmed", "notice_date", "notice_reference", "entered_by", "confirmed_by", "confirmed_at"]
    readonly_fields = ["statutory", "entered_by", "entered_at", "confirmed_by", "confirmed_at"]
    fields = ["year", "statutory", "notice_date", "notice_reference", "days_off", "working_days", "confirmed",
              "entered_by", "entered_at", "confirmed_by", "confirmed_at"]

    @admin.display(description=_("当年法定节假日（必须放假）"))
    def statutory(self, obj):
        if obj is None or not obj.year:
            return "—"
        try:
            days = statutory_days(obj.year)
        except (ValueError, RuntimeError):  # a year the lunar calendar cannot compute: the form says why
            return "—"
        return "、".join(f"{day:%m-%d} {festival.zh}" for day, festival in sorted(days.items()))

    def save_model(self, request, obj, form, change):
        arrangements.save_arrangement(obj, actor=request.user)

    def has_delete_permission(self, request, obj=None):
        return False
