"""The shop's live theme: JSON templates that can hold Advocate's app blocks (the product page's main
section, and the home page's "Apps" sections the theme editor adds with target=newAppsSection),
rendered with a Liquid engine (python-liquid) from the real files of Advocate's theme app extension
(extensions/advocate-theme), with the metafields and translations as Shopify's Liquid sees them.
"""
from __future__ import annotations

import functools
import html
import json
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

from liquid import Environment
from liquid.filter import with_context

EXTENSION_DIR = Path(__file__).resolve().parent.parent / "extensions" / "advocate-theme"
APP_HANDLE = "advocate"
EXTENSION_UUID = "7c2b9a1e-advocate-theme"


def default_theme() -> dict:
    index = {"sections": {"featured_collection": {"type": "featured-collection", "settings": {"title": "Our products"}}},
             "order": ["featured_collection"]}
    product = {"sections": {"main": {"type": "main-product", "blocks": {"title": {"type": "title"}, "price": {"type": "price"},
                                                                        "buy": {"type": "buy_buttons"}},
                                     "block_order": ["title", "price", "buy"]}}, "order": ["main"]}
    settings_data = {"current": {"blocks": {}}}
    header = "/*\n * ------------------------------------------------------------\n * IMPORTANT: The contents of this file are auto-generated.\n * ------------------------------------------------------------\n */\n"
    return {"name": "Dawn", "role": "MAIN", "files": {
        "templates/index.json": header + json.dumps(index, indent=2),
        "templates/product.json": header + json.dumps(product, indent=2),
        "config/settings_data.json": header + json.dumps(settings_data, indent=2),
    }}


def block_schema(handle: str, language: str = "en") -> dict:
    """The block's schema as the theme editor shows it in the merchant's `language`: `t:` names read
    from the schema locale file (<language>.schema.json, else en.default.schema.json)."""
    source = (EXTENSION_DIR / "blocks" / f"{handle}.liquid").read_text()
    match = re.search(r"{%\s*schema\s*%}(.*?){%\s*endschema\s*%}", source, re.S)
    return _schema_translated(json.loads(match.group(1)), language) if match else {}


def _locale(name: str) -> dict:
    path = EXTENSION_DIR / "locales" / name
    return _locale_read(path, path.stat().st_mtime_ns) if path.exists() else {}


@functools.lru_cache(maxsize=64)
def _locale_read(path: Path, mtime: int) -> dict:
    """A locale file, read once per version of it (`t` runs dozens of times a page; an edit shows at once)."""
    return json.loads(path.read_text())


def languages() -> list[str]:
    """The languages the extension's storefront locale files speak, the default (en) first."""
    named = sorted(p.stem for p in (EXTENSION_DIR / "locales").glob("*.json") if "." not in p.stem)
    return ["en", *named]


def _candidates(language: str, kind: str = "") -> list[str]:
    """Shopify's lookup order for a locale ('pt-BR'): its own file, its language's ('pt'), the default."""
    base = language.split("-", 1)[0]
    names = [f"{language}{kind}.json", f"{base}{kind}.json"] if base != "en" else []
    return [*dict.fromkeys(names), f"en.default{kind}.json"]


def _plural(language: str, count) -> str:
    """CLDR's plural category of a whole count in `language` (Shopify picks the key by it): Korean and
    Japanese have one form, French counts 0 as singular, and French and Spanish have `many` for millions."""
    base = language.split("-", 1)[0]
    n = abs(int(count))
    if base in ("ko", "ja", "zh"):
        return "other"
    if base in ("fr", "es", "it", "pt") and n and n % 1_000_000 == 0:
        return "many"
    if base == "fr":
        return "one" if n in (0, 1) else "other"
    return "one" if n == 1 else "other"


def _lookup(tree: dict, key: str):
    for part in key.split("."):
        tree = tree.get(part) if isinstance(tree, dict) else None
    return tree


def _schema_translated(node, language: str = "en"):
    if isinstance(node, dict):
        return {k: _schema_translated(v, language) for k, v in node.items()}
    if isinstance(node, list):
        return [_schema_translated(v, language) for v in node]
    if isinstance(node, str) and node.startswith("t:"):
        for name in _candidates(language, ".schema"):
            found = _lookup(_locale(name), node[2:])
            if isinstance(found, str):
                return found
    return node


def translate(key: str, language: str = "en", **values) -> str:
    """Shopify's `t` filter on the extension's storefront locale files: <language>.json, else the
    language's own, else en.default.json, key by key; `{{ name }}` interpolated, `count` choosing the
    language's plural form (`one`, `many`, `other`), and the result HTML-escaped unless the key ends in
    `_html`; a key no file has reads "translation missing", as on Shopify."""
    for name in _candidates(language):
        found = _lookup(_locale(name), key)
        if isinstance(found, dict) and "count" in values:
            found = found.get(_plural(language, values["count"])) or found.get("other")
        if isinstance(found, str):
            break
    else:
        return f"translation missing: {language}.{key}"
    text = re.sub(r"{{\s*(\w+)\s*}}", lambda m: str(values.get(m.group(1), "")), found)
    return text if key.endswith("_html") else html.escape(text, quote=True)


@with_context
def _t(key: str, *, context, **values) -> str:
    """The `t` filter in the language of the page being rendered (Liquid's request.locale)."""
    request = context.resolve("request", default={}) or {}
    locale = request.get("locale") if isinstance(request, dict) else None
    return translate(key, (locale or {}).get("iso_code") or "en", **values)


# Each language in its own words (Liquid's shop_locale.endonym_name), for the storefront's language list.
ENDONYMS = {"en": "English", "ko": "한국어", "ja": "日本語", "de": "Deutsch", "fr": "Français", "es": "Español"}


def shop_locale(language: str, primary: str, root_url: str) -> dict:
    """Liquid's `request.locale` (a shop_locale) for a page in `language`; `root_url` is where its pages start."""
    return {"iso_code": language, "primary": language == primary, "root_url": root_url,
            "endonym_name": ENDONYMS.get(language, language), "name": ENDONYMS.get(language, language)}


def blocks_available() -> list[str]:
    return sorted(p.stem for p in (EXTENSION_DIR / "blocks").glob("*.liquid"))


def _load(content: str) -> dict:
    return json.loads(re.sub(r"/\*.*?\*/", "", content, flags=re.S))


def _dump(tree: dict) -> str:
    return json.dumps(tree, indent=2)


def block_template(handle: str) -> str:
    """The template a block goes on when none is asked for: the product page, or the first it is enabled on."""
    templates = block_schema(handle).get("enabled_on", {}).get("templates") or ["product"]
    return "product" if "product" in templates else templates[0]


def add_block(theme: dict, handle: str, template: str | None = None, target: str = "mainSection") -> None:
    """What the theme editor saves after the merchant places an app block: in the template's main
    section, or (target=newAppsSection, as on the home page) in a new "Apps" section of its own."""
    schema = block_schema(handle)
    block_type = f"shopify://apps/{APP_HANDLE}/blocks/{handle}/{EXTENSION_UUID}"
    if schema.get("target") == "body":
        data = _load(theme["files"]["config/settings_data.json"])
        data["current"]["blocks"][f"advocate_{handle}"] = {"type": block_type, "disabled": False, "settings": _defaults(schema)}
        theme["files"]["config/settings_data.json"] = _dump(data)
        return
    template = template or block_template(handle)
    name = f"templates/{template}.json"
    tree = _load(theme["files"].get(name) or _load_default(name))
    key = f"advocate_{handle}".replace("-", "_")
    if template == "product" and target != "newAppsSection":
        section = tree["sections"]["main"]
    else:
        section = tree["sections"].setdefault(f"apps_{key}", {"type": "apps", "blocks": {}, "block_order": [],
                                                               "settings": {"include_margins": True}})
        if f"apps_{key}" not in tree["order"]:
            tree["order"].append(f"apps_{key}")
    if key not in section["blocks"]:
        section["blocks"][key] = {"type": block_type, "settings": _defaults(schema)}
        section["block_order"].append(key)
    theme["files"][name] = _dump(tree)


def _load_default(name: str) -> str:
    """A template a theme saved before devstore had it (the home page's) starts as the default theme's."""
    return default_theme()["files"][name]


def remove_blocks(theme: dict) -> None:
    template = _load(theme["files"]["templates/product.json"])
    main = template["sections"]["main"]
    for key in [k for k, b in main["blocks"].items() if b["type"].startswith(f"shopify://apps/{APP_HANDLE}/")]:
        del main["blocks"][key]
        main["block_order"].remove(key)
    theme["files"]["templates/product.json"] = _dump(template)


def _defaults(schema: dict) -> dict:
    return {s["id"]: s["default"] for s in schema.get("settings", []) if "default" in s}


def app_blocks(theme: dict, template_name: str = "templates/product.json") -> list[tuple[str, dict]]:
    """(handle, settings) of the app blocks placed in a template, in the order of its sections and blocks."""
    template = _load(theme["files"].get(template_name) or _load_default(template_name))
    found = []
    for section in (template["sections"][name] for name in template["order"]):
        blocks = section.get("blocks", {})
        found += [(_handle(blocks[k]["type"]), blocks[k].get("settings", {}))
                  for k in section.get("block_order", []) if _handle(blocks[k]["type"])]
    return found


def app_embeds(theme: dict) -> list[tuple[str, dict]]:
    data = _load(theme["files"]["config/settings_data.json"])
    return [(_handle(b["type"]), b.get("settings", {})) for b in data["current"]["blocks"].values()
            if not b.get("disabled") and _handle(b["type"])]


def _handle(block_type: str) -> str | None:
    prefix = f"shopify://apps/{APP_HANDLE}/blocks/"
    return block_type.removeprefix(prefix).split("/")[0] if block_type.startswith(prefix) else None


def render_block(handle: str, context: dict) -> tuple[str, dict]:
    """A block's HTML and its schema (for the assets it asks for), rendered by a real Liquid engine.

    Like Shopify's Liquid, nothing is escaped unless the block says `| escape`; `{% schema %}` is
    Shopify's own tag and is cut before rendering."""
    source = (EXTENSION_DIR / "blocks" / f"{handle}.liquid").read_text()
    schema = block_schema(handle)
    body = re.sub(r"{%\s*schema\s*%}.*?{%\s*endschema\s*%}", "", source, flags=re.S)
    return _LIQUID.from_string(body).render(**context), schema


def script_json(value) -> str:
    """Shopify's `json` filter: JSON that is safe inside a <script> element (Rails escapes <, > and &)."""
    text = json.dumps(value, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _image_url(image, width: int | None = None, height: int | None = None) -> str:
    """Shopify's `image_url`: a protocol-relative CDN address (devstore's image route here)."""
    if not image:
        return ""
    src = image.get("src", "") if isinstance(image, dict) else str(image)
    return src + (f"?width={width}" if width else "")


def liquid_product(product: dict, domain: str, store_url: str, metafields: dict, root: str = "") -> dict:
    """The product as Shopify's Liquid `product` object has it, as far as the blocks read it; its url is
    under `root`, the storefront language's root (routes.root_url), as Shopify's urls are."""
    url = f"{(root or f'/shops/{domain}').rstrip('/')}/products/{product['handle']}"
    cents = int(round(float(product["price"]) * 100))
    host = store_url.split("://", 1)[-1]
    variant = {"id": product["variant_id"], "price": cents, "available": product.get("status") == "ACTIVE"}
    return {"id": product["id"], "title": product["title"], "handle": product["handle"], "url": url,
            "price": cents, "available": variant["available"], "vendor": product.get("vendor", ""),
            "featured_image": {"src": f"//{host}/shops/{domain}/images/{product['handle']}.jpg"},
            "selected_or_first_available_variant": variant, "metafields": metafields}


def structured_data(product: dict, store_url: str, currency: str) -> dict:
    """What Shopify's `{{ product | structured_data }}` gives a Dawn-like product template."""
    variant = product["selected_or_first_available_variant"]
    return {
        "@context": "http://schema.org/", "@id": product["url"] + "#product", "@type": "Product",
        "brand": {"@type": "Brand", "name": product["vendor"]}, "name": product["title"],
        "image": "http:" + _image_url(product["featured_image"], width=1920),
        "url": store_url + product["url"],
        "offers": {"@id": f"{product['url']}?variant={variant['id']}#offer", "@type": "Offer",
                   "availability": "http://schema.org/" + ("InStock" if variant["available"] else "OutOfStock"),
                   "price": f"{variant['price'] / 100:.2f}", "priceCurrency": currency,
                   "url": f"{store_url}{product['url']}?variant={variant['id']}"},
    }


@with_context
def _asset_url(name: str, *, context) -> str:
    """Shopify's `asset_url` for an extension asset: its CDN address (devstore's, from the render context)."""
    return f"{context.resolve('asset_root')}{name}"


def _stylesheet_tag(url: str) -> str:
    """Shopify's `stylesheet_tag`. Placed in a block (in the body, as Dawn's sections place theirs),
    it holds back only what follows it, not the page above."""
    return f'<link href="{url}" rel="stylesheet" type="text/css" media="all">'


def _round(value, ndigits: int = 0):
    """Shopify's `round` (Ruby's): halves away from zero, so 3.25 shows as 3.3 as it does on Shopify
    (Python's round would give 3.2)."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return value
    rounded = number.quantize(Decimal(1).scaleb(-int(ndigits)), rounding=ROUND_HALF_UP)
    return int(rounded) if int(ndigits) <= 0 else float(rounded)


_LIQUID = Environment()
_LIQUID.add_filter("round", _round)
_LIQUID.add_filter("asset_url", _asset_url)
_LIQUID.add_filter("stylesheet_tag", _stylesheet_tag)
_LIQUID.add_filter("json", script_json)
_LIQUID.add_filter("image_url", _image_url)
_LIQUID.add_filter("t", _t)
