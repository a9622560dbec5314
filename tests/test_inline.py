"""The CSS inliner (premailer, configured for email clients) keeps what email needs."""

from __future__ import annotations

from lxml import html as lxml_html

from mailer.compose.inline import inline_css

PAGE = """<!DOCTYPE html>
<html lang="sv"><head>
<style>
p { color: #333333; margin: 0 0 16px 0; }
.lead { color: #111; }
.box p { color: #222; }
.box > p.lead { font-weight: bold; }
td { text-align: left; vertical-align: top; background-color: #abc; }
a:hover { color: red; }
img { display: block; }
@media screen and (max-width: 599px) { .box { padding: 0 !important; } }
</style>
<style data-premailer="ignore">[data-ogsc] .box { color: #fff !important; }</style>
</head><body>
<div class="box"><p class="lead" style="margin: 4px;">Hej</p><p>Två</p></div>
<table><tr><td>cell</td></tr></table>
<img src="https://x.example/a.png" width="600" height="300" alt="bild">
<!--[if mso]><style>p { color: blue; }</style><![endif]-->
</body></html>
"""


def styles(element) -> dict[str, str]:
    pairs = (part.split(":", 1) for part in (element.get("style") or "").split(";") if part)
    return {key.strip(): value.strip() for key, value in pairs}


def test_rules_cascade_by_specificity_and_the_elements_own_style_wins():
    root = lxml_html.fromstring(inline_css(PAGE))
    lead, second = root.xpath("//div[@class='box']/p")
    assert styles(lead) == {
        "color": "#222",  # .box p (0,1,1) beats .lead (0,1,0) and p
        "margin": "4px",  # the element's own style wins over p { margin }
        "font-weight": "bold",  # a child combinator: matched through cssselect
    }
    assert styles(second)["color"] == "#222" and styles(second)["margin"] == "0 0 16px 0"


def test_media_queries_and_pseudo_classes_stay_in_the_style_block_with_important():
    out = inline_css(PAGE)
    root = lxml_html.fromstring(out)
    kept = [s.text for s in root.iter("style")]
    assert "@media screen and (max-width:599px){.box{padding:0 !important}}" in kept[0]
    assert "a:hover" in kept[0] and "color:red" in kept[0].split("a:hover", 1)[1]
    assert "[data-ogsc] .box { color: #fff !important; }" in kept  # ignore block as written
    assert "data-premailer" not in out
    assert "<!--[if mso]><style>p { color: blue; }</style><![endif]-->" in out


def test_outlook_gets_align_valign_and_six_digit_bgcolor_but_image_sizes_stay_unitless():
    root = lxml_html.fromstring(inline_css(PAGE))
    td = root.xpath("//td")[0]
    assert (td.get("align"), td.get("valign"), td.get("bgcolor")) == ("left", "top", "#aabbcc")
    img = root.xpath("//img")[0]
    assert (img.get("width"), img.get("height")) == ("600", "300")
    assert styles(img) == {"display": "block"}


def test_a_style_block_with_nothing_left_is_removed_and_the_doctype_kept():
    page = (
        "<!DOCTYPE html>\n<html><head><style>p { color: #000; }</style></head>"
        "<body><p>x</p></body></html>"
    )
    out = inline_css(page)
    assert out.startswith("<!DOCTYPE html>") and "<style" not in out
    assert 'style="color:#000"' in out


def test_semicolons_in_quoted_font_names_and_data_urls_survive():
    css = 'p { font-family: "A;B", serif; background: url(data:image/png;base64,AA) }'
    page = f"<html><head><style>{css}</style></head><body><p>x</p></body></html>"
    p = lxml_html.fromstring(inline_css(page)).xpath("//p")[0]
    style = p.get("style").replace('url("data', "url(data").replace('AA")', "AA)")
    assert style == 'font-family:"A;B",serif; background:url(data:image/png;base64,AA)'


def test_a_kept_parse_gives_the_same_output_as_a_fresh_one_and_a_changed_sheet_is_read_anew():
    from mailer.compose import inline

    inline._KeptParses._cache.clear()
    fresh = inline_css(PAGE)
    assert len(inline._KeptParses._cache) == 1  # parsed once (the ignored block is not read)
    again = inline_css(PAGE.replace("<p>Två</p>", "<p>Tre</p>"))  # same CSS, new text
    assert again == fresh.replace("Två", "Tre")
    assert len(inline._KeptParses._cache) == 1  # nothing parsed anew
    changed = inline_css(PAGE.replace("color: #222", "color: #444"))
    assert "color:#444" in changed and "color:#222" not in changed


def test_floating_images_get_outlooks_align_attribute():
    page = (
        "<html><head><style>.r { float: right; }</style></head><body>"
        '<img class="r" src="a.png" alt="a"><img style="float: left" src="b.png" alt="b">'
        '<img style="float: left; float: none" src="c.png" alt="c"></body></html>'
    )
    right, left, neither = lxml_html.fromstring(inline_css(page)).xpath("//img")
    assert (right.get("align"), left.get("align"), neither.get("align")) == ("right", "left", None)
