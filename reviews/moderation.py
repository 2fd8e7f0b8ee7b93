"""Content rules for new and edited reviews. They read the words only, never the stars:
a one-star review and a five-star review with the same text get the same verdict.

The rules work in each launch language (English, Korean, Japanese, German, French, Spanish):
words are Unicode words, so "scheiße" and "enculé" are matched whole; Korean and Japanese write
without spaces between words, so their list is matched inside the text; digits and separators
may be full-width (０９０－１２３４－５６７８), as phones type them in Japan.
"""
from __future__ import annotations

import re

from django.utils.translation import gettext_noop

from reviews.models import Review
from shopapp.models import Shop

LINK = re.compile(r"(https?://|www\.|\b[\w-]+\.(com|net|org|io|shop|ru|xyz|info|biz|co)\b)", re.I)
EMAIL = re.compile(r"[\w.+-]+[@＠][\w-]+[.．][\w.-]+")
# \d is any script's digit (full-width too); separators as phones are written in Korea and Japan.
# No word boundary around it: Korean and Japanese run a number into the words beside it ("電話は０９０…まで").
PHONE = re.compile(r"(?<![A-Za-z\d])[+＋]?\d[\d\s().\-－‐ー（）]{7,}\d(?![A-Za-z\d])")
DATE = re.compile(r"\d{1,4}[./-]\d{1,2}[./-]\d{1,4}")  # "12.03.2026" is a date, not a phone
# Kept short on purpose: words nearly every shop would hold back, in each launch language.
# Matched as whole words (a word of the text, case-folded).
PROFANITY = frozenset({
    # English
    "fuck", "fucking", "fucked", "shit", "shitty", "bitch", "bastard", "asshole", "cunt", "dick", "motherfucker",
    "wanker", "twat", "slut", "whore", "retard", "nigger", "faggot",
    # German
    "scheiße", "scheisse", "arschloch", "fotze", "wichser", "hurensohn", "schlampe", "missgeburt", "ficken", "fick",
    # French
    "merde", "putain", "connard", "connasse", "salope", "enculé", "encule", "pute", "nique", "fdp",
    # Spanish
    "mierda", "puta", "puto", "cabrón", "cabron", "gilipollas", "coño", "joder", "pendejo", "hijoputa", "maricón",
})
# Korean and Japanese: no spaces between words, so these are found anywhere in the text. Only
# strings that are never part of an ordinary word.
PROFANITY_INSIDE = (
    "씨발", "시발", "ㅅㅂ", "ㅆㅂ", "개새끼", "병신", "좆", "지랄", "미친놈", "미친년", "썅",
    "クソ", "くそったれ", "死ね", "ちんこ", "まんこ", "キチガイ", "きちがい", "ファック",
)
WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")  # letters of any script
LATIN_WORD = re.compile(r"[a-zA-Z']+")  # the vowel rules of gibberish read Latin words only
# Laughter typed with a repeated letter ("ㅋㅋㅋㅋㅋㅋㅋ", "wwwwwww" in Japanese) is not gibberish.
LAUGHTER = re.compile(r"([ㅋㅎㅠㅜ]|(?<![a-zA-Z])w)\1{2,}")

# Stored in English (a held review's decision keeps them so); the panel translates them when it shows them.
REASONS = {
    "link": gettext_noop("Contains a link"),
    "profanity": gettext_noop("Contains profanity"),
    "personal_data": gettext_noop("Contains an email address or phone number"),
    "duplicate": gettext_noop("Same text as another review"),
    "gibberish": gettext_noop("Looks like gibberish"),
}


def review_text_reasons(*, shop: Shop, title: str, body: str, exclude_review_id: int | None = None) -> list[str]:
    """The rule names a review's text breaks (empty: publish at once)."""
    text = f"{title}\n{body}"
    reasons = []
    if LINK.search(EMAIL.sub(" ", text)):  # an email address is personal data, not a link
        reasons.append("link")
    if _has_profanity(text):
        reasons.append("profanity")
    if EMAIL.search(text) or _has_phone(text):
        reasons.append("personal_data")
    if _is_duplicate(shop, body, exclude_review_id):
        reasons.append("duplicate")
    if _is_gibberish(text):
        reasons.append("gibberish")
    return reasons


def _has_profanity(text: str) -> bool:
    folded = text.casefold()
    return any(word in PROFANITY for word in WORD.findall(folded)) or any(bad in folded for bad in PROFANITY_INSIDE)


def personal_data_mask(text: str) -> str:
    """The text with every email address and phone number (as the rules find them) replaced by a marker."""
    text = EMAIL.sub("[email removed]", text)
    return PHONE.sub(lambda m: "[phone removed]" if _is_phone(m.group()) else m.group(), text)


def _has_phone(text: str) -> bool:
    return any(_is_phone(m.group()) for m in PHONE.finditer(text))


def _is_phone(candidate: str) -> bool:
    return sum(ch.isdigit() for ch in candidate) >= 8 and not DATE.fullmatch(candidate.strip())


def normalized(body: str) -> str:
    return " ".join(WORD.findall(body.lower()))


def _is_duplicate(shop: Shop, body: str, exclude_review_id: int | None) -> bool:
    key = normalized(body)
    if len(key) < 20:  # "Great mug, love it" is said by many people honestly
        return False
    candidates = Review.objects.for_shop(shop).exclude(pk=exclude_review_id).filter(body__iexact=body.strip())
    if candidates.exists():
        return True
    # Same words with different punctuation or case: compare within a bounded window.
    recent = Review.objects.for_shop(shop).exclude(pk=exclude_review_id).order_by("-pk").values_list("body", flat=True)[:500]
    return any(normalized(b) == key for b in recent)


def _is_gibberish(text: str) -> bool:
    if not WORD.findall(text):
        letters = sum(ch.isalpha() for ch in text)
        return len(text.strip()) >= 12 and letters == 0 and not text.strip().isdigit()
    text = LAUGHTER.sub(" ", text)
    if re.search(r"(.)\1{6,}", text):
        return True
    words = LATIN_WORD.findall(text)
    long_words = [w for w in words if len(w) >= 6]
    no_vowel = [w for w in long_words if not re.search(r"[aeiouy]", w, re.I)]
    if len(no_vowel) >= 2 or (long_words and len(no_vowel) / len(long_words) > 0.5):
        return True
    # Keyboard mashing: very long "words" made of consonant runs.
    return any(len(w) > 25 for w in words) or any(re.search(r"[^aeiouy\W\d_]{6,}", w, re.I) for w in words)
