"""OpenAlex titles carry markup: the harmless inline tags render, everything else is text."""

import pytest

from datarank_site.pages.templatetags.titles import title_markup, title_text


@pytest.mark.parametrize(
    ("title", "html"),
    [
        ("CO<sub>2</sub> fluxes", "CO<sub>2</sub> fluxes"),
        ("<i>In situ</i> and <b>bold</b> x<sup>2</sup>", "<i>In situ</i> and <b>bold</b> x<sup>2</sup>"),
        ("<I>Upper</I>", "<i>Upper</i>"),
        ("Plain title", "Plain title"),
        ("", ""),
    ],
)
def test_it_keeps_bare_inline_tags(title, html):
    assert title_markup(title) == html


def test_it_escapes_a_script_tag():
    assert title_markup("<script>alert(1)</script>Data") == "&lt;script&gt;alert(1)&lt;/script&gt;Data"


def test_it_escapes_a_kept_tag_that_carries_attributes():
    rendered = title_markup('<i onclick="alert(1)">x</i>')
    assert "<i " not in rendered
    assert rendered == "&lt;i onclick=&quot;alert(1)&quot;&gt;x"


def test_it_escapes_other_tags_and_attributes():
    rendered = title_markup('<a href="javascript:alert(1)">x</a><img src=x onerror=alert(1)><style>b{}</style>')
    assert "<a" not in rendered and "<img" not in rendered and "<style" not in rendered
    assert "&lt;img src=x onerror=alert(1)&gt;" in rendered


def test_it_closes_an_unclosed_tag():
    assert title_markup("<i>Never closed") == "<i>Never closed</i>"


def test_it_closes_inner_tags_before_their_parent():
    assert title_markup("<i><b>x</i> y") == "<i><b>x</b></i> y"


def test_it_drops_a_closing_tag_that_was_never_opened():
    assert title_markup("x</sub> y</i>") == "x y"


def test_it_escapes_quotes_and_ampersands():
    assert title_markup("\"Rock\" & 'roll'") == "&quot;Rock&quot; &amp; &#x27;roll&#x27;"


def test_it_decodes_entities_once_or_twice_escaped_and_escapes_them_again():
    assert title_markup("Temperature &amp; Salinity") == "Temperature &amp; Salinity"
    assert title_markup("CO&amp;lt;sub&amp;gt;2&amp;lt;/sub&amp;gt;") == "CO<sub>2</sub>"


def test_escaped_hostile_markup_stays_text():
    assert title_markup("&lt;script&gt;alert(1)&lt;/script&gt;") == "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_small_caps_tags_are_dropped_and_their_text_kept():
    assert title_markup("a <scp>DNA</scp> substrate") == "a DNA substrate"


def test_a_tag_that_is_not_bare_is_not_markup_even_when_spaced_oddly():
    assert title_markup("< i>x") == "&lt; i&gt;x"


def test_the_plain_text_version_has_no_tags():
    assert title_text("<i>In situ</i> CO<sub>2</sub> <script>x</script>") == "In situ CO2 <script>x</script>"
