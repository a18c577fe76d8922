"""Who may do what on the staff site: roles are auth groups, detail follows model permissions."""

from django.utils.translation import gettext, gettext_noop

from arrears.core import roles
from arrears.estate import selectors as estate_selectors
from arrears.ledger.importers import WriteScope

# The role labels live in arrears.core.roles as plain Chinese; these marks put them in the catalogue.
_ROLE_MESSAGES = [
    gettext_noop("催收员（客服/管家）"),
    gettext_noop("前台/门岗/车管"),
    gettext_noop("片区/项目经理"),
    gettext_noop("财务"),
    gettext_noop("法务"),
    gettext_noop("系统管理员"),
]

# Charge type names come from data (ledger migration 0002); pages translate them by name.
_CHARGE_TYPE_MESSAGES = [gettext_noop("物业费"), gettext_noop("车位管理费"), gettext_noop("公摊水电费"), gettext_noop("其他")]

IMPORT_ROLES = {roles.MANAGER, roles.FINANCE, roles.ADMIN}


def role_names(user) -> list[str]:
    """The user's roles in the order of ROLE_LABELS (one query, cached on the user object)."""
    if not user.is_authenticated:
        return []
    if not hasattr(user, "_staff_roles"):
        names = set(user.groups.values_list("name", flat=True))
        user._staff_roles = [role for role in roles.ROLE_LABELS if role in names]
    return user._staff_roles


def role_labels(user) -> list[str]:
    labels = [gettext(roles.ROLE_LABELS[role]) for role in role_names(user)]
    if user.is_superuser and roles.ADMIN not in role_names(user):
        labels.append(gettext(roles.ROLE_LABELS[roles.ADMIN]))
    return labels


def can_import(user) -> bool:
    return user.is_active and (user.is_superuser or bool(IMPORT_ROLES & set(role_names(user))))


def import_scope(user) -> WriteScope | None:
    """Where the user's web import may write: the units the staff pages show them (whole communities
    and single buildings), new communities only with the admin role; None for a superuser (everywhere)."""
    if user.is_superuser:
        return None
    if not can_import(user):
        return WriteScope()
    communities, buildings = estate_selectors.scope_grants(user)
    return WriteScope(frozenset(communities), frozenset(buildings), roles.ADMIN in role_names(user))


def sees_full_phone_numbers(user) -> bool:
    """Front desk, gate and parking see masked numbers only (个人信息保护法: minimum disclosure)."""
    return user.has_perm("estate.view_contact")


def sees_ledger_detail(user) -> bool:
    """Charge lines and the ledger history need ledger permissions."""
    return user.has_perm("ledger.view_charge")


def sees_amounts(user) -> bool:
    """Any amount owed, paid or promised needs the ledger permission: the front desk, gate and
    parking see none anywhere on the staff site (DESIGN.md §1, 个人信息保护法: minimum disclosure)."""
    return user.has_perm("ledger.view_charge")
