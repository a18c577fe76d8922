"""KeyField: a CharField that holds a key people type in its one normal form (`core.text`).

The field, not each caller, normalises, so that no write path can forget:
- `to_python` runs in `full_clean`, hence in every ModelForm and admin form before the unique
  checks: "101\u200b" next to "101" is refused as "already exists", not stored as a second unit;
- `pre_save` runs in `save()` and in `bulk_create` (and updates the instance, as auto_now does);
- `get_prep_value` runs for `QuerySet.update`, `bulk_update` and every exact/`in` lookup, so
  `filter(name="阳光\u200b花园")` finds "阳光花园". Pattern lookups (`icontains`, `startswith`)
  do not prepare their value: a search normalises what it looks for itself.
Raw SQL is the one way around it.

It deconstructs as a plain CharField: the column is the same, so swapping the class needs no
migration (and on SQLite no table rebuild, which would drop an evidence table's triggers).
Values read from the database are not touched, so `arrears keys --check` sees what is stored.
"""

from __future__ import annotations

from django import forms
from django.db import models

from arrears.core.text import natural_key, normalise_key


class KeyFormField(forms.CharField):
    """A form's CharField that cleans to the normal form, so a form redisplays what will be stored."""

    def to_python(self, value):
        value = super().to_python(value)
        return value if value in self.empty_values else normalise_key(value)


class KeyField(models.CharField):
    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.CharField", args, kwargs

    def to_python(self, value):
        value = super().to_python(value)
        return None if value is None else normalise_key(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return value if value is None or not isinstance(value, str) else normalise_key(value)

    def pre_save(self, model_instance, add):
        value = getattr(model_instance, self.attname)
        if isinstance(value, str):
            value = normalise_key(value)
            setattr(model_instance, self.attname, value)
        return value

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": KeyFormField, **kwargs})


class SortKeyField(models.CharField):
    """The natural sort key of other fields of the row ("10栋" after "2栋"), kept by the field itself.

    `pre_save` computes it from `sources` (joined by a space, which sorts before every digit and
    letter), so `save()`, `create()` and `bulk_create()` all fill it and no write path can forget;
    `QuerySet.update()` of a source field does not (write sources through a save).
    On PostgreSQL the column uses the "C" collation: byte order, so a database created with a
    language collation (en_US.UTF-8 ignores spaces and punctuation) sorts the key as SQLite does.
    """

    def __init__(self, *args, sources: tuple[str, ...] = (), **kwargs):
        self.sources = tuple(sources)
        kwargs.setdefault("max_length", 255)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["sources"] = self.sources
        for key, value in (("max_length", 255), ("editable", False), ("default", "")):
            if kwargs.get(key) == value:
                kwargs.pop(key)
        return name, path, args, kwargs

    def db_parameters(self, connection):
        params = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            params["collation"] = "C"
        return params

    def key_of(self, model_instance) -> str:
        return " ".join(natural_key(getattr(model_instance, source)) for source in self.sources)

    def pre_save(self, model_instance, add):
        value = self.key_of(model_instance)
        setattr(model_instance, self.attname, value)
        return value
