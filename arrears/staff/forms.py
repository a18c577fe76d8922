from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

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
