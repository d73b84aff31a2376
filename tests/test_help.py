"""Every command documents itself: --help works, lists every option, and shows Examples.

Parametrized over the app's own command list, so a command added later is covered without
touching this file.
"""
import pytest

from conftest import all_commands
from mbcost.cli.app import COMMANDS

# Examples the help text must keep, beyond the generic checks below.
KEPT_EXAMPLES = {
    "verify": ["mbcost verify mobilenet_v1"],
    "reproduce": ["mbcost reproduce --source"],
    "report": ["mbcost report mobilenet_v2 --alpha 0.75"],
}


@pytest.mark.parametrize("name", COMMANDS)
def test_every_command_has_help_with_examples(cli, name):
    r = cli(name, "--help")
    assert r.code == 0 and r.err == "", r.err
    assert "Examples" in r.out
    examples = r.out.split("Examples", 1)[1]
    assert f"mbcost {name} " in examples, "an example of this very command"
    options = [o for p in all_commands()[name].params for o in getattr(p, "opts", ()) if o.startswith("--")]
    assert options and [o for o in options if o not in r.out] == [], "every option is documented"
    for example in KEPT_EXAMPLES.get(name, []):
        assert example in examples


def test_the_app_lists_every_command():
    assert sorted(all_commands()) == sorted(COMMANDS)


def test_top_level_help_lists_the_commands_and_an_example(cli):
    top = cli("--help")
    assert top.code == 0 and "mbcost report mobilenet_v2 --alpha 0.75" in top.out
    assert all(name in top.out for name in COMMANDS)


def test_top_level_help_comes_from_the_registries(cli):
    # every built-in (variants too), every kind a file may write and every output format, as the
    # registries hold them today — not a hand-kept list that goes stale
    from mbcost.core.kinds import writable
    from mbcost.core.locate import builtin_variants
    from mbcost.render.formats import FORMATS

    text = " ".join(cli("--help").out.replace("│", " ").split())
    assert [n for n in builtin_variants() if f" {n}," not in text and f" {n}." not in text] == []
    assert [k for k in writable() if f" {k}," not in text and f" {k}." not in text] == []
    assert [e for f in FORMATS.values() for e in f.extensions if e not in text] == []


@pytest.mark.parametrize("name", ["report", "check", "reproduce"])
def test_format_help_lists_the_extensions_the_command_writes(cli, name):
    from mbcost.render.formats import FORMATS, formats_of

    text = " ".join(cli(name, "--help").out.replace("│", " ").split())
    assert [e for f in formats_of(name) for e in FORMATS[f].extensions if e not in text] == []
    assert (".xml" in text) == ("junit" in formats_of(name))
