"""Engagement rules: the per-record cap (R-REC-7), email addresses (R-REC-8)
and email HTML sanitising (R-REC-9).

The sanitiser rebuilds the HTML from an allow-list with the standard
library's parser, so whatever it does not know is dropped, not escaped into
view: formatting, tables, links and images stay; scripts, styles, frames,
objects, forms, SVG/MathML (with their content), event handlers and any URL
that is not http(s)/mailto/tel (links) or http(s)/cid/data:image (images) go.
The parser decodes entities in attributes before we look at them, and
whitespace and control characters are stripped from URLs, so
"jav&#x09;ascript:" is seen as "javascript:".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from html import escape
from html.parser import HTMLParser

from crm_records.domain.errors import InvalidEmailAddress
from crm_records.domain.properties import normalise_email

__all__ = [
    "MAX_ENGAGEMENTS_PER_RECORD", "can_associate_engagement", "normalise_email",
    "email_addresses", "email_participants", "sanitise_email_html",
]

MAX_ENGAGEMENTS_PER_RECORD = 10_000


def can_associate_engagement(current_count: int) -> bool:
    """R-REC-7: past the cap an engagement is still created, just not associated here."""
    return current_count < MAX_ENGAGEMENTS_PER_RECORD


# ---------------------------------------------------------------- addresses (R-REC-8)

EMAIL_ADDRESS_PROPERTIES = (
    "hs_email_from_email", "hs_email_to_email", "hs_email_cc_email", "hs_email_bcc_email",
)


def email_addresses(field_value: str | None) -> list[str]:
    """Valid addresses in a ';' or ','-separated field, normalised; invalid parts are skipped.

    Accepts "Name <a@b.com>" forms too, as mail clients write them.
    """
    found = []
    for part in re.split(r"[;,]", field_value or ""):
        bracketed = re.search(r"<([^<>]*)>", part)
        try:
            found.append(normalise_email(bracketed[1] if bracketed else part))
        except InvalidEmailAddress:
            continue
    return list(dict.fromkeys(found))


def email_participants(properties: Mapping[str, str | None]) -> frozenset[str]:
    """Every address an email engagement was logged to or from: the timeline keys (R-REC-8)."""
    return frozenset(a for name in EMAIL_ADDRESS_PROPERTIES for a in email_addresses(
        properties.get(name)))


# ---------------------------------------------------------------- HTML (R-REC-9)

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "center", "cite", "code", "col",
    "colgroup", "dd", "del", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5",
    "h6", "hr", "i", "img", "ins", "li", "ol", "p", "pre", "q", "s", "small", "span", "strike",
    "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
})
VOID_TAGS = frozenset({"br", "col", "hr", "img"})
# Dropped together with everything inside them.
DROPPED_WITH_CONTENT = frozenset({
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "form",
    "svg", "math", "noscript", "template", "title", "textarea", "select", "button", "head",
})
COMMON_ATTRIBUTES = frozenset({
    "style", "title", "align", "valign", "width", "height", "bgcolor", "color",
    "border", "dir", "lang",
})
TAG_ATTRIBUTES: Mapping[str, frozenset[str]] = {
    "a": frozenset({"href"}),
    "img": frozenset({"src", "alt"}),
    "table": frozenset({"cellpadding", "cellspacing"}),
    "td": frozenset({"colspan", "rowspan", "nowrap"}),
    "th": frozenset({"colspan", "rowspan", "nowrap", "scope"}),
    "col": frozenset({"span"}),
    "colgroup": frozenset({"span"}),
    "font": frozenset({"face", "size"}),
    "ol": frozenset({"start", "type"}),
    "ul": frozenset({"type"}),
}
LINK_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
IMAGE_SCHEMES = frozenset({"http", "https", "cid"})
DATA_IMAGE = re.compile(r"^data:image/(png|gif|jpe?g|webp|bmp);base64,[a-z0-9+/=]+$", re.I)
# CSS that can run code, fetch from elsewhere, hide escapes or lay the email over our page:
# the whole style attribute goes.
UNSAFE_CSS = re.compile(
    r"expression|javascript:|vbscript:|url\(|@import|behavior|binding|\\|/\*"
    r"|(?<![-\w])position\s*:", re.I)


def _clean_url(value: str) -> str:
    """The URL as a browser reads it: ASCII whitespace and control characters removed."""
    return re.sub(r"[\x00-\x20\x7f]+", "", value)


def _scheme(url: str) -> str | None:
    match = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*):", url)
    return match[1].lower() if match else None


def _safe_href(value: str) -> str | None:
    url = _clean_url(value)
    if url.startswith("#") or _scheme(url) in LINK_SCHEMES:
        return url
    return None


def _safe_src(value: str) -> str | None:
    url = _clean_url(value)
    if _scheme(url) in IMAGE_SCHEMES or DATA_IMAGE.match(url):
        return url
    return None


def _safe_attribute(tag: str, name: str, value: str | None) -> str | None:
    if name not in COMMON_ATTRIBUTES and name not in TAG_ATTRIBUTES.get(tag, frozenset()):
        return None  # on* handlers, srcset, formaction, id/name (DOM clobbering), ...
    value = value or ""
    if name == "href":
        return _safe_href(value)
    if name == "src":
        return _safe_src(value)
    if name == "style" and UNSAFE_CSS.search(value):
        return None
    return value


class _Sanitiser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open_tags: list[str] = []
        self.dropping: list[str] = []  # stack of dropped elements we are inside

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, self_closing=False)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._start(tag, attrs, self_closing=True)

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], self_closing: bool) -> None:
        if self.dropping:
            if tag == self.dropping[-1] and not self_closing:
                self.dropping.append(tag)
            return
        if tag in DROPPED_WITH_CONTENT:
            if not self_closing and tag not in VOID_TAGS:
                self.dropping.append(tag)
            return
        if tag not in ALLOWED_TAGS:
            return  # unknown wrapper (html, body, center-like custom tags): keep its content
        kept = []
        for name, value in attrs:
            safe = _safe_attribute(tag, name, value)
            if safe is not None:
                kept.append(f' {name}="{escape(safe, quote=True)}"')
        if tag == "img" and not any(part.startswith(" src=") for part in kept):
            return  # an image with no safe source shows nothing
        if tag == "a" and any(part.startswith(" href=") for part in kept):
            kept.append(' rel="noopener noreferrer nofollow" target="_blank"')
        self.out.append(f"<{tag}{''.join(kept)}>")
        if tag not in VOID_TAGS:
            self.open_tags.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.dropping:
            if tag == self.dropping[-1]:
                self.dropping.pop()
            return
        if tag in self.open_tags:  # close what is open above it, so output stays balanced
            while self.open_tags:
                closing = self.open_tags.pop()
                self.out.append(f"</{closing}>")
                if closing == tag:
                    break

    def handle_data(self, data: str) -> None:
        if not self.dropping:
            self.out.append(escape(data, quote=False))

    # Comments (Outlook conditional comments included), doctypes, processing
    # instructions and CDATA are dropped by not overriding their handlers.

    def result(self) -> str:
        self.close()
        return "".join(self.out) + "".join(f"</{tag}>" for tag in reversed(self.open_tags))


def sanitise_email_html(html: str) -> str:
    """Email HTML safe to show inside our pages, formatting and images intact (R-REC-9)."""
    sanitiser = _Sanitiser()
    sanitiser.feed(html or "")
    return sanitiser.result()
