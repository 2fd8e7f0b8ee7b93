from django import template

from referrals.fraud import fraud_reason_shown

register = template.Library()


@register.filter
def fraud_reason(flag: dict) -> str:
    """{{ f|fraud_reason }}: a referral's stored fraud reason in the reader's language."""
    return fraud_reason_shown(flag)
