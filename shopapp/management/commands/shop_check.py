"""Check Advocate's connection to one shop: a valid token (refreshed if due) and the shop's details."""
from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from shopapp.admin_api import ShopifyError
from shopapp.models import Shop
from shopapp.connection import shop_access_token
from shopapp.services import shop_sync_details
from shopapp.shopify import clean_shop_domain


class Command(BaseCommand):
    help = "Refresh the shop's access token if it is due and read its details from Shopify."

    def add_arguments(self, parser):
        parser.add_argument("shop", help="the shop's myshopify.com domain")

    def handle(self, *args, shop: str, **options):
        domain = clean_shop_domain(shop)
        found = Shop.objects.filter(domain=domain).first() if domain else None
        if found is None:
            raise CommandError(f"No shop {shop!r} in Advocate's database; install Advocate on it from the Shopify admin first.")
        if not found.is_installed:
            raise CommandError(f"{found.domain} uninstalled Advocate on {found.uninstalled_at:%Y-%m-%d}; it must be installed again.")
        self.stdout.write(f"Checking {found.domain}: access token…")
        try:
            shop_access_token(found)
            self.stdout.write("  token valid; reading the shop's details…")
            shop_sync_details(found)
        except ShopifyError as exc:
            raise CommandError(str(exc)) from exc
        found.refresh_from_db()
        expires = f"until {found.access_token_expires_at:%Y-%m-%d %H:%M} UTC" if found.access_token_expires_at else "without expiry"
        self.stdout.write(self.style.SUCCESS(
            f"{found.domain} is connected: {found.name}, {found.currency}, plan {found.plan_name or 'unknown'}; token valid {expires}."))
