"""Lookalike keys already stored: find them, normalise the ones that are safe, leave the rest to a person.

Used by `arrears keys --check` (on the live models) and by the data migrations that bring
existing rows to the normal form (on the historical models, which name their key fields and
their append-only columns explicitly: a historical model has no KeyField and no frozen groups).

A row whose key is not normal is *safe* to normalise when no other row of its table would then
share its unique key (the model's unique fields and UniqueConstraints that include a key field)
and the column is not append-only evidence (a payment's reference is the proof as it was
written). Colliding rows ("101" and "101\u200b" in one building) may each carry charges,
payments and cases: merging them is a decision about money, so nothing here merges; they are
listed for a person to merge.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from arrears.core.text import normalise_key

CHUNK = 500


@dataclass
class TableReport:
    label: str
    lookalikes: list[tuple[int, dict[str, str]]] = field(default_factory=list)  # (pk, {field: stored})
    collisions: list[tuple[tuple[str, ...], list[int]]] = field(default_factory=list)  # (fields, pks sharing one key)
    frozen: list[int] = field(default_factory=list)  # pks not normalised: append-only evidence
    normalised: list[int] = field(default_factory=list)
    frozen_fields: frozenset[str] = frozenset()  # append-only columns: never merged, corrected by a reversal

    @property
    def left(self) -> bool:
        """Whether a person must still act: a colliding or append-only lookalike remains."""
        return bool(self.collisions or self.frozen)


def unique_sets(model, key_fields) -> list[tuple[tuple[str, ...], object]]:
    """The model's unique keys that include a key field, each with its condition (or None)."""
    found = []
    for model_field in model._meta.concrete_fields:
        if model_field.unique and not model_field.primary_key and model_field.name in key_fields:
            found.append(((model_field.name,), None))
    for constraint in model._meta.constraints:
        fields = tuple(getattr(constraint, "fields", ()) or ())
        if fields and set(fields) & set(key_fields) and not getattr(constraint, "expressions", None):
            found.append((fields, getattr(constraint, "condition", None)))
    return found


def _attnames(model, names) -> list[str]:
    return [model._meta.get_field(name).attname for name in names]


def scan(model, key_fields, *, frozen=()) -> TableReport:
    """Every stored lookalike of `model` and every group that collides once normalised."""
    report = TableReport(model._meta.label, frozen_fields=frozenset(frozen))
    key_fields = list(key_fields)
    sets = unique_sets(model, key_fields)
    wanted = sorted({name for fields, _ in sets for name in _attnames(model, fields)} | set(key_fields))
    odd = {}
    for row in model._base_manager.order_by("pk").values_list("pk", *wanted).iterator(chunk_size=2000):
        values = dict(zip(wanted, row[1:], strict=True))
        raw = {name: values[name] for name in key_fields if values[name] is not None and values[name] != normalise_key(values[name])}
        if raw:
            report.lookalikes.append((row[0], raw))
            odd[row[0]] = values
    colliding: set[int] = set()
    for fields, condition in sets:
        columns = _attnames(model, fields)

        def normal(values, columns=columns):
            return tuple(normalise_key(values[c]) if c in key_fields and values[c] is not None else values[c] for c in columns)

        groups: dict[tuple, set[int]] = defaultdict(set)
        for pk, values in odd.items():
            key = normal(values)
            if condition is not None and "" in key:
                continue  # a blank key leaves a conditional constraint's scope ("no receipt number")
            groups[key].add(pk)
        # Rows already stored in the normal form that a lookalike would join.
        probe = next(c for c in columns if c in key_fields)
        index = columns.index(probe)
        keys = list(groups)
        queryset = model._base_manager.all() if condition is None else model._base_manager.filter(condition)
        for start in range(0, len(keys), CHUNK):
            chunk = keys[start:start + CHUNK]
            for row in queryset.filter(**{f"{probe}__in": {key[index] for key in chunk}}).values_list("pk", *columns):
                key = tuple(row[1:])
                if key in groups:
                    groups[key].add(row[0])
        for pks in groups.values():
            if len(pks) > 1:
                report.collisions.append((tuple(fields), sorted(pks)))
                colliding |= pks
    frozen = set(frozen)
    for pk, raw in report.lookalikes:
        if pk in colliding:
            continue
        if set(raw) & frozen:
            report.frozen.append(pk)
    return report


def normalise_table(model, key_fields, *, frozen=()) -> TableReport:
    """Bring every safe lookalike of `model` to the normal form; report the rest."""
    report = scan(model, key_fields, frozen=frozen)
    colliding = {pk for _, pks in report.collisions for pk in pks}
    left = colliding | set(report.frozen)
    for pk, raw in report.lookalikes:
        if pk not in left:
            model._base_manager.filter(pk=pk).update(**{name: normalise_key(value) for name, value in raw.items()})
            report.normalised.append(pk)
    return report


def describe(report: TableReport) -> list[str]:
    """Lines for a person: what is not normal, what collides (merge by hand), what was normalised."""
    lines = []
    lookalike = dict(report.lookalikes)
    for fields, pks in report.collisions:
        shown = "；".join(f"#{pk} {lookalike.get(pk, '（规范）')!r}" for pk in pks)
        advice = ("是证据，不改写也不合并；如为重复录入请冲正其一 / append-only evidence, never merged: "
                  "if entered twice, reverse one" if set(fields) & report.frozen_fields else "请人工合并 / merge by hand")
        lines.append(f"{report.label} 撞键 / collide on {','.join(fields)}: {shown} — {advice}")
    for pk in report.frozen:
        lines.append(f"{report.label} #{pk} {lookalike[pk]!r} 是证据，不改写 / append-only evidence, left as written")
    done = set(report.normalised)
    colliding = {pk for _, pks in report.collisions for pk in pks}
    for pk, raw in report.lookalikes:
        if pk in done:
            lines.append(f"{report.label} #{pk} {raw!r} 已规范化 / normalised")
        elif pk not in colliding and pk not in report.frozen:
            lines.append(f"{report.label} #{pk} {raw!r} 不规范 / not normal")
    return lines
