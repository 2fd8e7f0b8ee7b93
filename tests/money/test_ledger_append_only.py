"""The credit ledger is append-only in fact, not by docstring: what was owed never changes and entries are never deleted."""
from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction

from referrals.models import Advocate, CreditEntry, LedgerImmutable
from tests.referrals.helpers import customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def entry(db):
    from tests.conftest import _make_shop

    shop = _make_shop("owner-shop.myshopify.com")
    advocate = Advocate.objects.create(shop=shop, customer=customer(shop), code="MAYA-2345")
    return CreditEntry.objects.create(shop=shop, advocate=advocate, key="reward:1", amount=Decimal("10.00"),
                                      currency="USD")


def test_the_amount_of_an_entry_cannot_be_changed_by_the_app(entry):
    with pytest.raises(LedgerImmutable):
        CreditEntry.objects.filter(pk=entry.pk).update(amount=Decimal("20.00"))
    entry.amount = Decimal("20.00")
    with pytest.raises(LedgerImmutable):
        entry.save()
    with pytest.raises(LedgerImmutable):
        entry.save(update_fields=["amount"])
    assert CreditEntry.objects.get().amount == Decimal("10.00")


def test_entries_are_never_deleted_by_the_app(entry):
    with pytest.raises(LedgerImmutable):
        CreditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(LedgerImmutable):
        entry.delete()
    assert CreditEntry.objects.count() == 1


def test_the_settlement_of_an_entry_still_moves(entry):
    entry.status = CreditEntry.Status.CONFIRMED
    entry.save(update_fields=["status"])
    CreditEntry.objects.filter(pk=entry.pk).update(shopify_ref="gid://shopify/StoreCreditAccountCreditTransaction/1")
    entry.refresh_from_db()
    assert (entry.status, entry.amount) == ("confirmed", Decimal("10.00"))


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_postgresql_refuses_a_changed_amount_even_in_raw_sql(entry):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE referrals_creditentry SET amount = 20 WHERE id = %s", [entry.pk])
    with connection.cursor() as cursor:
        cursor.execute("UPDATE referrals_creditentry SET note = 'checked' WHERE id = %s", [entry.pk])
    entry.refresh_from_db()
    assert (entry.amount, entry.note) == (Decimal("10.00"), "checked")
