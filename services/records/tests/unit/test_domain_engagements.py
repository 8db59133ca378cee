import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crm_records.domain.engagements import (
    MAX_ENGAGEMENTS_PER_RECORD,
    can_associate_engagement,
    email_addresses,
    email_participants,
    normalise_email,
    sanitise_email_html,
)
from crm_records.domain.errors import InvalidEmailAddress


# R-REC-7
def test_a_record_holds_at_most_ten_thousand_engagements():
    assert MAX_ENGAGEMENTS_PER_RECORD == 10_000
    assert can_associate_engagement(0)
    assert can_associate_engagement(9_999)
    assert not can_associate_engagement(10_000)
    assert not can_associate_engagement(12_000)


# R-REC-8
def test_addresses_are_trimmed_and_lowercased():
    assert normalise_email("  Ann.Lee+crm@Example.CO.uk ") == "ann.lee+crm@example.co.uk"


# R-REC-8
@pytest.mark.parametrize("bad", ["", "ann", "ann@", "@example.com", "ann@example", "a b@x.com",
                                 "ann..lee@x.com", ".ann@x.com", "ann@-x.com", None, 5])
def test_invalid_addresses_are_refused(bad):
    with pytest.raises(InvalidEmailAddress):
        normalise_email(bad)


# R-REC-8: an email belongs to the addresses it was logged to or from
def test_an_emails_participants_are_its_normalised_addresses():
    participants = email_participants({
        "hs_email_from_email": "Sales <SALES@us.com>",
        "hs_email_to_email": "ann@a.com; Bob@B.com",
        "hs_email_cc_email": "not an address",
        "hs_email_bcc_email": None,
    })
    assert participants == {"sales@us.com", "ann@a.com", "bob@b.com"}
    assert email_addresses("a@x.com,A@X.com") == ["a@x.com"]


# R-REC-9
def test_formatting_links_and_images_survive():
    html = ('<div style="color:#333"><p>Hi <b>Ann</b>,</p><table cellpadding="4"><tr>'
            '<td colspan="2">x</td></tr></table><a href="https://a.com/?a=1&amp;b=2">link</a>'
            '<img src="https://cdn.a.com/logo.png" alt="logo" width="80">'
            '<img src="cid:part1.abc@a.com"><img src="data:image/png;base64,iVBORw0KGgo=">'
            '<br/><ul><li>one</li></ul></div>')
    clean = sanitise_email_html(html)
    assert '<div style="color:#333"><p>Hi <b>Ann</b>,</p>' in clean
    assert '<td colspan="2">x</td>' in clean
    assert 'href="https://a.com/?a=1&amp;b=2"' in clean
    assert '<img src="https://cdn.a.com/logo.png" alt="logo" width="80">' in clean
    assert '<img src="cid:part1.abc@a.com">' in clean
    assert '<img src="data:image/png;base64,iVBORw0KGgo=">' in clean
    assert "<br>" in clean and "<li>one</li>" in clean


NASTY = [
    '<script>alert(1)</script>',
    '<SCRIPT SRC="https://evil.com/x.js"></SCRIPT>',
    '<scr<script>ipt>alert(1)</script>',
    '<script><script>alert(1)</script></script>',
    '<p ONCLICK="alert(1)">x</p>',
    '<img src="https://a.com/x.png" OnError="alert(1)">',
    '<img src=x onerror=alert(1)>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="  JaVaScRiPt:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="jav\tascript:alert(1)">x</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;:alert(1)">x</a>',
    '<a href="javascript&colon;alert(1)">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<img src="data:text/html,<script>alert(1)</script>">',
    '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<svg onload="alert(1)"><circle r="1"/></svg>',
    '<svg><script>alert(1)</script></svg>',
    '<math><mtext><img src=x onerror=alert(1)></mtext></math>',
    '<iframe src="https://evil.com"></iframe>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<form action="https://evil.com"><input name="password"><button>Go</button></form>',
    '<style>body{background:url(javascript:alert(1))}</style>',
    '<div style="background:url(https://track.er/p.gif)">x</div>',
    '<div style="width: expression(alert(1))">x</div>',
    '<div style="position:fixed;top:0">x</div>',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    '<!--<script>alert(1)</script>-->',
    '<![CDATA[<script>alert(1)</script>]]>',
    '<body onload="alert(1)">x</body>',
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    '<title><img src=x onerror=alert(1)></title>',
    '<a href="https://a.com" onmouseover="alert(1)" formaction="javascript:alert(1)">x</a>',
    '<img srcset="javascript:alert(1)" src="https://a.com/x.png">',
    '<p title="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">x</p>',
]


def _assert_safe(clean: str) -> None:
    lowered = clean.lower()
    assert "<script" not in lowered and "<style" not in lowered
    for tag in ("iframe", "object", "embed", "form", "input", "svg", "math", "meta", "base"):
        assert f"<{tag}" not in lowered
    assert not re.search(r"<[^>]*\son\w+\s*=", lowered), clean
    assert not re.search(r"<[^>]*\s(srcset|formaction|action|data|id|name)\s*=", lowered), clean
    for match in re.finditer(r'\s(href|src)="([^"]*)"', lowered):
        assert re.match(r"(https?:|mailto:|tel:|cid:|#|data:image/(png|gif|jpe?g|webp|bmp);)",
                        match[2]), clean
    assert "expression(" not in lowered and "url(" not in lowered
    assert "position:fixed" not in lowered.replace(" ", "")


# R-REC-9
@pytest.mark.parametrize("html", NASTY)
def test_nasty_inputs_come_out_harmless(html):
    _assert_safe(sanitise_email_html(html))


# R-REC-9: specific outcomes, not only absences
def test_what_is_kept_of_nasty_inputs():
    assert sanitise_email_html('<p ONCLICK="alert(1)">x</p>') == "<p>x</p>"
    assert sanitise_email_html('<a href="jav&#x09;ascript:alert(1)">x</a>') == "<a>x</a>"
    assert sanitise_email_html('<img src=x onerror=alert(1)>') == ""
    assert sanitise_email_html("<script><script>alert(1)</script></script>after") == "after"
    assert sanitise_email_html('<svg onload="alert(1)"><text>hi</text></svg>ok') == "ok"
    assert sanitise_email_html("<b>1 < 2 & 3</b>") == "<b>1 &lt; 2 &amp; 3</b>"
    assert sanitise_email_html('<p title="&quot;&gt;&lt;script&gt;">x</p>') == (
        '<p title="&quot;&gt;&lt;script&gt;">x</p>')


# R-REC-9: links open away from our page
def test_links_get_a_safe_rel_and_target():
    assert sanitise_email_html('<a href="https://a.com" target="_self">x</a>') == (
        '<a href="https://a.com" rel="noopener noreferrer nofollow" target="_blank">x</a>')


# R-REC-9: unclosed tags cannot swallow the rest of the page
def test_output_is_balanced():
    assert sanitise_email_html("<div><b>bold<i>both") == "<div><b>bold<i>both</i></b></div>"
    assert sanitise_email_html("<b>x</div></b>") == "<b>x</b>"


HTML_TOKENS = [*"<>/=\"' abcdefgijlmnoprstv:&#;x()\t\n", "<script>", "</script>", "<img ",
               "onerror=", "javascript:", "<a href=", "<svg", "<style>", "<iframe", "&#106;",
               "src=", "data:text/html,", "<!--", "-->", "<p ", ">"]


# R-REC-9
@given(st.lists(st.sampled_from(HTML_TOKENS), max_size=80).map("".join))
def test_arbitrary_input_never_produces_scripts_handlers_or_script_urls(html):
    _assert_safe(sanitise_email_html(html))
