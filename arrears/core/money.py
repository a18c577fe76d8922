"""Money: Decimal yuan with two places (分). One rounding rule, ROUND_HALF_UP, everywhere."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
# Every money column holds 14 digits, two after the point: anything larger cannot be stored exactly.
LIMIT = Decimal("1000000000000")


class MoneyError(ValueError):
    """A value that cannot be money: a float, text that is not a number, more than two decimals."""


def to_money(value, *, strict: bool = True) -> Decimal:
    """Turn an int, str or Decimal into money; refuse floats, which cannot hold 分 exactly.

    With strict, more than two decimal places is an error rather than a silent rounding.
    """
    if isinstance(value, float):
        raise MoneyError(f"金额不能是浮点数 / money must not be a float: {value!r}")
    if isinstance(value, bool):
        raise MoneyError(f"金额无效 / not an amount: {value!r}")
    try:
        amount = Decimal(str(value).strip().replace(",", "")) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError) as exc:
        raise MoneyError(f"金额不是数字 / amount is not a number: {value!r}") from exc
    if not amount.is_finite():
        raise MoneyError(f"金额不是数字 / amount is not a number: {value!r}")
    if abs(amount) >= LIMIT:
        raise MoneyError(f"金额超出上限（最多 12 位整数）/ amount too large (12 integer digits at most): {value!r}")
    rounded = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    if strict and amount != rounded:
        raise MoneyError(f"金额最多两位小数 / at most two decimal places: {value!r}")
    return rounded


def round_money(value: Decimal) -> Decimal:
    """Round a computed amount to 分, half up (the house rule for every split, fee and total)."""
    if isinstance(value, float):
        raise MoneyError(f"金额不能是浮点数 / money must not be a float: {value!r}")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def format_yuan(value, *, sign: bool = True) -> str:
    """¥1,568,379.74: money as people read it, grouped by thousands, two decimals, in every language.

    Django's number formatting follows the locale, and zh-hans groups nothing; amounts are read in
    thousands in both languages, so the grouping is fixed here. A negative amount reads -¥1,234.50.
    Decimal (or int, or text of a number) in; a float is refused, as everywhere money is handled.
    """
    # A computed total is shown whatever its size; only what is typed in is bounded by the column.
    amount = round_money(value) if isinstance(value, (Decimal, int)) and not isinstance(value, bool) else to_money(value, strict=False)
    text = f"{abs(amount):,.2f}"
    return ("-" if amount < 0 else "") + ("¥" if sign else "") + text


def format_money(value: Decimal) -> str:
    """Two decimals, no grouping: the form exports and JSON carry."""
    return f"{round_money(value):.2f}"


try:  # Django is optional for the pure-rule imports above.
    from django.db import models as _models
except ImportError:  # pragma: no cover
    _models = None

if _models is not None:

    class MoneyField(_models.DecimalField):
        """A DecimalField that comes back from the database as exact 分.

        SQLite keeps decimals as binary floats and Django quantizes only plain columns: a SUM or
        a product read back unquantized can be 79.99999999999 or −1.7E−18. Every money value and
        every money expression is declared with this field, so what Python sees is exact.
        """

        def __init__(self, *args, **kwargs):
            kwargs.setdefault("max_digits", 14)
            kwargs.setdefault("decimal_places", 2)
            super().__init__(*args, **kwargs)

        def from_db_value(self, value, expression, connection):
            # PostgreSQL's numeric is exact already; skipping it saves seconds on 100,000-unit reads.
            if value is None or connection.vendor == "postgresql":
                return value
            return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
