"""Issue 13, path 4, attacked again: one transfer typed two ways at two desks."""

from decimal import Decimal as D

import pytest

from arrears.core.errors import DomainError
from arrears.ledger import services
from arrears.ledger.models import Payment
from arrears.portal import cashier
from tests.portal.test_payment_reference import TODAY, _counts, _take
from tests.staff import conftest as staff

today, estate, finance = staff.today, staff.estate, staff.finance


@pytest.mark.parametrize("typed", ["icbc-20260510-001", "ICBC-2026 0510-001", " Icbc-20260510-001 "])
def test_it_refuses_one_transfer_typed_in_another_letter_case_or_with_spaces(estate, finance, typed):
    # given the transfer is taken as printed on the bank slip
    first = _take(estate, finance)
    before = _counts()
    # when a second desk types it in lower case, or grouped by spaces, for the neighbour's unit
    with pytest.raises(DomainError) as refused:
        _take(estate, finance, unit="other_unit", owner="neighbour_owner", reference=typed)
    # then it is the same reference: refused, naming the receipt that holds it
    assert refused.value.code == "duplicate_reference"
    assert first.receipt_number in refused.value.zh
    assert _counts() == before


def test_it_stores_a_desk_reference_in_one_form_so_the_database_index_sees_the_repeat(estate, finance):
    payment = _take(estate, finance, reference="ab 12-cd")
    assert payment.reference == "AB12-CD"


def test_it_refuses_a_desk_reference_repeating_an_older_lower_case_one(estate, finance):
    # given a payment stored before references were upper-cased (through the ledger, as typed)
    old = services.record_payment(unit_id=estate["unit"].pk, owner_id=estate["owner"].pk, amount=D("10.00"),
                                  paid_on=TODAY, method="bank_transfer", reference="icbc-old-7")
    assert Payment.objects.get(pk=old.pk).reference == "icbc-old-7"
    # when the desk enters it again as printed
    with pytest.raises(DomainError) as refused:
        cashier.check_reference(unit=estate["unit"], method="bank_transfer", reference=cashier.check_method(
            method="bank_transfer", reference="ICBC-OLD-7"))
    assert refused.value.code == "duplicate_reference"


def _online(estate, trade_no, method="wechat"):
    """A payment as the portal credits a WeChat/Alipay order (payments.credit_order)."""
    return services.record_payment(unit_id=estate["unit"].pk, owner_id=estate["owner"].pk, amount=D("100.00"),
                                   paid_on=TODAY, method=method, reference=f"{method}:{trade_no}")


@pytest.mark.parametrize("method", ["wechat", "alipay"])
def test_it_refuses_at_the_desk_a_wallet_trade_number_already_credited_online(estate, finance, method):
    # given the owner paid online: the trade is stored as "provider:trade number"
    online = _online(estate, "4200002026051012345678", method)
    before = _counts()
    # when the owner shows the wallet's bill at the desk and the cashier types its trade number
    with pytest.raises(DomainError) as refused:
        _take(estate, finance, method=method, reference="4200002026051012345678")
    # then it is one payment already: refused, naming the online payment
    assert refused.value.code == "duplicate_reference"
    assert f"#{online.pk}" in refused.value.zh
    assert _counts() == before


def test_it_refuses_online_a_wallet_trade_number_already_taken_at_the_desk(estate, finance):
    # given the cashier took the owner's online payment at the desk before its notification arrived
    _take(estate, finance, method="wechat", reference="4200002026051099999999")
    # when the notification credits the same trade
    with pytest.raises(DomainError) as refused:
        _online(estate, "4200002026051099999999")
    # then it is refused (the notification is kept for a person to check)
    assert refused.value.code == "duplicate_reference"
    assert Payment.objects.filter(reference__endswith="4200002026051099999999").count() == 1
