from django.apps import AppConfig


class CasesConfig(AppConfig):
    """The negative-review case workflow: its own app inside reviews/, so its tables and migrations stand apart."""

    name = "reviews.cases"
    label = "cases"
    verbose_name = "Advocate cases"
