"""devstore: a local Shopify for Advocate's demo, end-to-end tests and benchmarks.

A development tool only: Advocate's apps never import it; they reach it through
SHOPIFY_UPSTREAM_URL like they would reach Shopify.
"""
