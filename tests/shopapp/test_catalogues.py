"""The translation catalogues in locale/: complete (for what shoppers read and for the merchant's panel),
faithful to every placeholder, compiled, what makemessages finds in the code, and no template text left
outside {% translate %}. tests/shopapp/test_panel_translated.py opens every panel page in each language."""
from __future__ import annotations

import gettext
import html.parser
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.template.base import Lexer, TokenType

ROOT = Path(settings.BASE_DIR)
LANGUAGES = [code for code, _ in settings.LANGUAGES if code != "en"]
# Every template: the shoppers', the storefront's (the theme's own locales translate its Liquid blocks)
# and the merchant's panel and emails.
TEMPLATES = sorted(p for p in (ROOT / "templates").rglob("*") if p.is_file() and p.suffix in (".html", ".txt"))
# Visible text a template may hold outside {% translate %}: names, codes and marks no language changes.
UNTRANSLATED_OK = {"SAMPLE-CODE", "Advocate", "example.myshopify.com"}
VISIBLE_ATTRIBUTES = {"alt", "title", "aria-label", "placeholder"}
MAKEMESSAGES_IGNORE = [".venv/*", "node_modules/*", "devstore/*", "tests/*", "bench/*", "extensions/*", "var/*",
                       "artifacts/*", "scripts/*", "deploy/*"]

PLACEHOLDER = re.compile(r"%\([A-Za-z_]\w*\)[sd]|%%|\{[A-Za-z_]\w*\}")
TAG = re.compile(r"<[^>]+>")


def _catalog(language: str):
    with open(ROOT / "locale" / language / "LC_MESSAGES" / "django.po", "rb") as f:
        return read_po(f, locale=language)


def _texts(value) -> list[str]:
    return list(value) if isinstance(value, tuple) else [value]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_string_is_translated_in_every_language(language):
    catalog = _catalog(language)
    untranslated = [message.id for message in catalog if message.id
                    and (message.fuzzy or not all(_texts(message.string)))]
    assert untranslated == []
    assert catalog.num_plurals == {"ko": 1, "ja": 1, "de": 2, "fr": 2, "es": 3}[language]
    wrong_forms = [message.id for message in catalog if message.pluralizable
                   and len(_texts(message.string)) != catalog.num_plurals]
    assert wrong_forms == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_every_placeholder_and_tag_of_the_original(language):
    problems = []
    for message in _catalog(language):
        if not message.id:
            continue
        originals = _texts(message.id)
        for translation in _texts(message.string):
            if not translation:
                continue
            wanted = {frozenset(PLACEHOLDER.findall(o)) for o in originals}
            # A plural's singular may say "one" where the original has %(count)s; never anything else.
            if frozenset(PLACEHOLDER.findall(translation)) not in wanted | {w - {"%(count)s"} for w in wanted}:
                problems.append((message.id, translation, "placeholders"))
            if sorted(TAG.findall(translation)) != sorted(TAG.findall(originals[0])):
                problems.append((message.id, translation, "tags"))
    assert problems == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_is_the_one_its_source_says(language):
    folder = ROOT / "locale" / language / "LC_MESSAGES"
    with open(folder / "django.mo", "rb") as f:
        compiled = gettext.GNUTranslations(f)
    stale = []
    for message in _catalog(language):
        if not message.id or not all(_texts(message.string)):
            continue
        key = f"{message.context}\x04" if message.context else ""
        if message.pluralizable:
            got = [compiled.ngettext(key + message.id[0], message.id[1], n) for n in (1, 2, 5, 1_000_000)]
            forms = _texts(message.string)
            expected = [forms[min(compiled.plural(n), len(forms) - 1)] for n in (1, 2, 5, 1_000_000)]
        else:
            got, expected = compiled.gettext(key + message.id), message.string
        if got != expected:
            stale.append(message.id)
    assert stale == [], "run manage.py compilemessages (README, Languages)"


@pytest.mark.skipif(not shutil.which("xgettext") and not os.environ.get("ADVOCATE_REQUIRE_BROWSER"),
                    reason="gettext's xgettext is not installed (CI installs it)")
def test_makemessages_finds_exactly_the_strings_the_catalogues_hold(tmp_path):
    """Run the README's makemessages on a copy of the code: nothing new to translate, nothing stale."""
    for name in ("manage.py", "shopapp", "reviews", "referrals", "templates", "locale"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, tmp_path / name)
    command = [sys.executable, "manage.py", "makemessages", *[f"-l{code}" for code in LANGUAGES], "--no-obsolete",
               "--add-location", "file", *[f"--ignore={pattern}" for pattern in MAKEMESSAGES_IGNORE]]
    env = {**os.environ, "ADVOCATE_VAR_DIR": str(tmp_path / "var")}
    subprocess.run(command, cwd=tmp_path, env=env, check=True, capture_output=True)
    for language in LANGUAGES:
        fresh = tmp_path / "locale" / language / "LC_MESSAGES" / "django.po"
        with open(fresh, "rb") as f:
            found = {(m.context, m.id) for m in read_po(f, locale=language) if m.id}
        kept = {(m.context, m.id) for m in _catalog(language) if m.id}
        assert sorted(map(str, found - kept)) == [], "strings to translate: run makemessages (README, Languages)"
        assert sorted(map(str, kept - found)) == [], "strings no longer used: run makemessages --no-obsolete"


class _VisibleText(html.parser.HTMLParser):
    """What a page shows: text between tags and the attributes people read (alt, title, aria-label)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("style", "script"):
            self._hidden += 1
        self.found.extend(value for name, value in attrs if name in VISIBLE_ATTRIBUTES and value)

    def handle_endtag(self, tag):
        if tag in ("style", "script"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.found.append(data)


def _outside_translation(source: str, *, plain: bool) -> list[str]:
    """The text of a template with every {% translate %} block, variable, tag and comment taken out."""
    kept, depth = [], 0
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0]
            if name in ("blocktranslate", "blocktrans", "comment"):
                depth += 1
            elif name in ("endblocktranslate", "endblocktrans", "endcomment"):
                depth -= 1
            kept.append("\u2063")  # a mark no template writes, so words on either side stay apart
        elif token.token_type == TokenType.TEXT and depth == 0:
            kept.append(token.contents)
        else:
            kept.append("\u2063")
    text = "".join(kept)
    if plain:
        pieces = [text]
    else:
        parser = _VisibleText()
        parser.feed(text)
        pieces = parser.found
    words = []
    for piece in pieces:
        for word in re.split(r"[\s\u2063]+", piece):
            if any(unicodedata.category(c).startswith("L") for c in word) and word.strip(".,:;()") not in UNTRANSLATED_OK:
                words.append(word)
    return words


def test_templates_show_no_text_outside_translate():
    assert len(TEMPLATES) > 70  # the list finds the templates (a broken glob passes nothing)
    leftovers = {}
    for path in TEMPLATES:
        words = _outside_translation(path.read_text(), plain=path.suffix == ".txt")
        if words:
            leftovers[path.relative_to(ROOT).as_posix()] = words
    assert leftovers == {}


def test_the_template_check_catches_a_forgotten_string():
    assert _outside_translation('<p>{% translate "Kept" %} Forgotten <img alt="Photo"></p>', plain=False) == [
        "Forgotten", "Photo"]
    assert _outside_translation('{% blocktranslate %}Hi {{ name }}{% endblocktranslate %} · {{ x }}', plain=False) == []
    assert _outside_translation("{% load i18n %}--\n{{ shop }}\nStop: {{ link }}", plain=True) == ["Stop:"]
    assert _outside_translation("{% comment %}Why this is here{% endcomment %}{# and this #}<p>{{ x }}</p>", plain=False) == []
