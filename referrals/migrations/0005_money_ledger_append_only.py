from django.db import migrations

# PostgreSQL refuses any UPDATE that changes what a ledger entry says was owed, whoever runs it.
# (Deletion is guarded in the model and queryset only: the shop's erase deletes the ledger
# through Django's cascade, and the database cannot tell that apart from a stray DELETE.)
FORBID = """
CREATE OR REPLACE FUNCTION referrals_credit_entry_fixed() RETURNS trigger AS $$
BEGIN
  IF NEW.shop_id IS DISTINCT FROM OLD.shop_id OR NEW.advocate_id IS DISTINCT FROM OLD.advocate_id
     OR NEW.referral_id IS DISTINCT FROM OLD.referral_id OR NEW.key IS DISTINCT FROM OLD.key
     OR NEW.method IS DISTINCT FROM OLD.method OR NEW.amount IS DISTINCT FROM OLD.amount
     OR NEW.currency IS DISTINCT FROM OLD.currency OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
    RAISE EXCEPTION 'ledger entries are append-only: record a correcting entry';
  END IF;
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER referrals_credit_entry_fixed BEFORE UPDATE ON referrals_creditentry
  FOR EACH ROW EXECUTE FUNCTION referrals_credit_entry_fixed();
"""
ALLOW = """
DROP TRIGGER IF EXISTS referrals_credit_entry_fixed ON referrals_creditentry;
DROP FUNCTION IF EXISTS referrals_credit_entry_fixed();
"""


def forbid(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORBID)


def allow(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(ALLOW)


class Migration(migrations.Migration):

    dependencies = [
        ("referrals", "0004_money_erase_restricts_not_protects"),
    ]

    operations = [migrations.RunPython(forbid, allow)]
