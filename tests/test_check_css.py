"""The checks read CSS through tinycss2: quoted semicolons, data URLs, hsl() and named colours."""

from __future__ import annotations

import pytest

from mailer.check.colors import color_in, contrast_ratio, hex_of, parse_color
from mailer.check.css import Declaration, parse_declarations, parse_stylesheet, walk


def test_a_semicolon_inside_a_quoted_font_name_does_not_split_the_declaration():
    declarations = parse_declarations('font-family: "A;B", serif; color: #333 !important')
    assert declarations == [
        Declaration("font-family", '"A;B", serif', False),
        Declaration("color", "#333", True),
    ]


def test_a_data_url_with_semicolons_stays_one_value():
    [decl] = parse_declarations("background: url(data:image/png;base64,AAAA) no-repeat")
    assert decl.value == "url(data:image/png;base64,AAAA) no-repeat"


def test_comments_custom_properties_and_broken_declarations_are_left_out():
    declarations = parse_declarations(
        "/* x */ color: red /* y */; --brand: 1; nonsense; padding: 0"
    )
    assert [(d.prop, d.value) for d in declarations] == [("color", "red"), ("padding", "0")]


def test_a_brace_inside_a_string_does_not_end_the_rule():
    rules = parse_stylesheet(
        'a::after { content: "}"; color: red } @media (max-width: 600px) '
        "{ .x { width: 100% !important } }"
    )
    assert [(rule.prelude, [d.prop for d in rule.declarations]) for rule, _ in walk(rules)] == [
        ("a::after", ["content", "color"]),
        ("@media (max-width: 600px)", []),
        (".x", ["width"]),
    ]
    assert rules[1].at_name == "media" and rules[1].children[0].declarations[0].important


@pytest.mark.parametrize(
    ("css", "expected"),
    [
        ("#0b5e69", "#0b5e69"),
        ("#fff", "#ffffff"),
        ("rgb(11, 94, 105)", "#0b5e69"),
        ("rgb(0 0 0 / 50%)", "#808080"),
        ("hsl(0, 100%, 50%)", "#ff0000"),
        ("hsla(240, 100%, 50%, 0.5)", "#8080ff"),
        ("hsl(120deg 100% 25%)", "#008000"),
        ("rebeccapurple", "#663399"),
        ("LightGray", "#d3d3d3"),
    ],
)
def test_colours_in_every_css_notation_are_read(css, expected):
    assert hex_of(parse_color(css)) == expected


@pytest.mark.parametrize("css", ["transparent", "currentColor", "inherit", "", "nocolour", "12px"])
def test_values_without_a_colour_of_their_own_give_none(css):
    assert parse_color(css) is None


def test_the_colour_inside_a_background_shorthand_is_found_in_any_notation():
    assert hex_of(color_in("url(x.png) no-repeat hsl(0 0% 20%)")) == "#333333"
    assert hex_of(color_in("navy url(x.png)")) == "#000080"
    assert color_in("url(x.png) no-repeat") is None


def test_wcag_formula_is_unchanged():
    assert contrast_ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert contrast_ratio((119, 119, 119), (255, 255, 255)) == pytest.approx(4.48, abs=0.01)
