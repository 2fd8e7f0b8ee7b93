"""Content rules for new and edited reviews. They read the words only, never the stars:
a one-star review and a five-star review with the same text get the same verdict."""
from __future__ import annotations

import re

from reviews.models import Review
from shopapp.models import Shop

LINK = re.compile(r"(https?://|www\.|\b[\w-]+\.(com|net|org|io|shop|ru|xyz|info|biz|co)\b)", re.I)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
PHONE = re.compile(r"(?<!\w)\+?\d[\d\s().-]{7,}\d(?!\w)")
# Kept short on purpose: words nearly every shop would hold back. Matched as whole words.
PROFANITY = frozenset({
    "fuck", "fucking", "fucked", "shit", "shitty", "bitch", "bastard", "asshole", "cunt", "dick", "motherfucker",
    "wanker", "twat", "slut", "whore", "retard", "nigger", "faggot",
})
WORD = re.compile(r"[a-zA-Z']+")

REASONS = {
    "link": "Contains a link",
    "profanity": "Contains profanity",
    "personal_data": "Contains an email address or phone number",
    "duplicate": "Same text as another review",
    "gibberish": "Looks like gibberish",
}


def review_text_reasons(*, shop: Shop, title: str, body: str, exclude_review_id: int | None = None) -> list[str]:
    """The rule names a review's text breaks (empty: publish at once)."""
    text = f"{title}\n{body}"
    reasons = []
    if LINK.search(EMAIL.sub(" ", text)):  # an email address is personal data, not a link
        reasons.append("link")
    if any(word.lower() in PROFANITY for word in WORD.findall(text)):
        reasons.append("profanity")
    if EMAIL.search(text) or _has_phone(text):
        reasons.append("personal_data")
    if _is_duplicate(shop, body, exclude_review_id):
        reasons.append("duplicate")
    if _is_gibberish(text):
        reasons.append("gibberish")
    return reasons


def personal_data_mask(text: str) -> str:
    """The text with every email address and phone number (as the rules find them) replaced by a marker."""
    text = EMAIL.sub("[email removed]", text)
    return PHONE.sub(lambda m: "[phone removed]" if sum(ch.isdigit() for ch in m.group()) >= 8 else m.group(), text)


def _has_phone(text: str) -> bool:
    return any(sum(ch.isdigit() for ch in m.group()) >= 8 for m in PHONE.finditer(text))


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
    words = WORD.findall(text)
    if not words:
        letters = sum(ch.isalpha() for ch in text)
        return len(text.strip()) >= 12 and letters == 0 and not text.strip().isdigit()
    if re.search(r"(.)\1{6,}", text):
        return True
    long_words = [w for w in words if len(w) >= 6]
    no_vowel = [w for w in long_words if not re.search(r"[aeiouy]", w, re.I)]
    if len(no_vowel) >= 2 or (long_words and len(no_vowel) / len(long_words) > 0.5):
        return True
    # Keyboard mashing: very long "words" made of consonant runs.
    return any(len(w) > 25 for w in words) or any(re.search(r"[^aeiouy\W\d_]{6,}", w, re.I) for w in words)
