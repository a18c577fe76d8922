from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from arrears.core import keys
from arrears.core.db import frozen_fields
from arrears.core.fields import KeyField


def key_tables():
    """Every model with a KeyField, its key fields and its append-only columns."""
    for model in apps.get_models():
        names = [f.name for f in model._meta.concrete_fields if isinstance(f, KeyField)]
        if names:
            yield model, names, frozen_fields(model)


class Command(BaseCommand):
    help = (
        "键的规范形式 / Lookalike keys. `keys --check`: list every stored key not in its normal form and every "
        "group that collides once normalised; exits 1 when any exists. `keys --normalise`: normalise the ones "
        "that collide with nothing (never append-only evidence), list the rest for a person to merge."
    )

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--check", action="store_true", help="只列出 / list only")
        action.add_argument("--normalise", action="store_true", help="规范化不冲突的键 / normalise the safe ones")

    def handle(self, *args, check, normalise, **options):
        found = left = 0
        for model, names, frozen in key_tables():
            report = (keys.normalise_table if normalise else keys.scan)(model, names, frozen=frozen)
            for line in keys.describe(report):
                self.stdout.write(line)
            found += len(report.lookalikes)
            left += len(report.lookalikes) - len(report.normalised)
        if left:
            raise CommandError(f"还有 {left} 处不规范的键 / {left} lookalike keys remain")
        self.stdout.write(f"键均为规范形式 / every key is normal ({found} normalised)" if found
                          else "键均为规范形式 / every key is normal")
