from django.contrib import admin
from django.utils.translation import gettext_lazy as _

admin.site.site_header = _("物业费催收系统 · 管理后台")
admin.site.site_title = _("物业费催收系统")
admin.site.index_title = _("数据管理")
admin.site.site_url = "/"
