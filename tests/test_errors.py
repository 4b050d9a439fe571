"""How foreign exceptions are quoted inside ganzoo's one-line errors."""

from ganzoo.errors import did_you_mean, first_line


def test_first_line_quotes_the_first_line_of_a_message_and_nothing_for_none():
    assert first_line(RuntimeError("\n  size mismatch for w: [3] vs [4]\n  more detail\n")) == \
        "size mismatch for w: [3] vs [4]"
    assert first_line(KeyError()) == ""  # the caller names the type instead


def test_did_you_mean_offers_close_names_only():
    assert did_you_mean("vanila", ["vanilla", "dcgan"]) == " (did you mean vanilla?)"
    assert did_you_mean("zzz", ["vanilla", "dcgan"]) == ""
