"""Groups and their permissions from ROLE_PERMISSIONS: rerun by a migration whenever roles change."""


def create_roles(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    from arrears.core.roles import ROLE_PERMISSIONS

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        if perms is None:
            group.permissions.set(Permission.objects.all())
            continue
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.extend(Permission.objects.filter(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)
