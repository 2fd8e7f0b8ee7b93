"""WSGI entry point: `gunicorn shopapp.wsgi`."""
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopapp.settings")
application = get_wsgi_application()

from django.conf import settings  # noqa: E402

if settings.PRODUCTION:
    # Django runs system checks for manage.py commands, not for a WSGI server; run
    # them here so a bad production setting stops gunicorn with its name.
    from django.core import checks  # noqa: E402

    _errors = [e for e in checks.run_checks() if e.is_serious()]
    if _errors:
        raise SystemExit("Advocate will not start:\n" + "\n".join(f"  {e.msg} {e.hint or ''}" for e in _errors))
