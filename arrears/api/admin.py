"""Tokens in the admin: listed and revoked, never created here (the page and the CLI show the text once)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from arrears.api import tokens
from arrears.api.models import ApiToken, IdempotentRequest
from arrears.core.admin import ViewOnlyAdmin


@admin.register(ApiToken)
class ApiTokenAdmin(ViewOnlyAdmin):
    list_display = ["prefix", "name", "user", "created_at", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["prefix", "name", "user__username"]
    exclude = ["digest"]
    actions = ["revoke_tokens"]

    @admin.action(description=_("吊销所选令牌"))
    def revoke_tokens(self, request, queryset):
        for token in queryset.filter(revoked_at__isnull=True):
            tokens.revoke(token=token, by=request.user)
        messages.success(request, _("已吊销"))

    def has_change_permission(self, request, obj=None):
        # the revoke action needs it; the form itself has no editable field
        return tokens.may_manage_all(request.user)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in ApiToken._meta.fields if f.name != "digest"]


@admin.register(IdempotentRequest)
class IdempotentRequestAdmin(ViewOnlyAdmin):
    list_display = ["created_at", "user", "operation", "key", "status"]
    search_fields = ["key", "user__username"]
