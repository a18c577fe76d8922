from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from arrears.insights.kpis import EARLIEST

XLSX_MAGIC = b"PK\x03\x04"  # an .xlsx is a zip archive


class SearchForm(forms.Form):
    q = forms.CharField(label=_("房号、业主姓名、手机尾号或车牌"), max_length=50, required=False)


class ImportUploadForm(forms.Form):
    file = forms.FileField(label=_("Excel 文件（.xlsx）"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith(".xlsx"):
            raise forms.ValidationError(_("只接受 .xlsx 格式的 Excel 文件，请在 Excel 中“另存为 .xlsx”后再上传。"))
        if upload.size > settings.ARREARS_IMPORT_MAX_UPLOAD_BYTES:
            raise forms.ValidationError(too_large_message())
        head = upload.read(4)
        upload.seek(0)
        if head != XLSX_MAGIC:
            raise forms.ValidationError(_("文件内容不是有效的 .xlsx 工作簿。"))
        return upload


def too_large_message() -> str:
    megabytes = settings.ARREARS_IMPORT_MAX_UPLOAD_BYTES // (1024 * 1024)
    return gettext("文件超过 %(mb)s MB，请拆分后上传。") % {"mb": megabytes}


class DashboardForm(forms.Form):
    """The dashboard's date (today at the latest) and community (one the user sees, or all)."""

    as_of = forms.DateField(label=_("截至日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    community = forms.TypedChoiceField(label=_("小区"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, communities: list[tuple[int, str]], today, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["community"].choices = [("", _("全部"))] + communities
        self.fields["as_of"].widget.attrs["max"] = today.isoformat()

    def clean_as_of(self):
        as_of = self.cleaned_data["as_of"]
        if as_of is None:
            return None  # the page's opening day (yesterday) is the view's to choose
        if as_of > self.today:
            raise forms.ValidationError(_("截至日期不能晚于今天。"))
        if as_of < EARLIEST:
            raise forms.ValidationError(_("截至日期不能早于 %(day)s。") % {"day": EARLIEST.isoformat()})
        return as_of
