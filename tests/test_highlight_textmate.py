"""The VS Code extension in editors/vscode: its TextMate grammar is the one `runtime/textmate.py`
makes from the registry (`--update-goldens` rewrites it); tokenised as VS Code does it (node,
`vscode-textmate` on `vscode-oniguruma`), every spec of the repository and every ```nqa block of
the docs gets the scope the parser's tree says (`highlight_oracle`), and no other piece gets one
of those scopes; the extension declares the language, the grammar and the server setting, and
starts `nqa lsp` with the command that setting names. The node tests are skipped when node or
the two npm packages are missing (`make test` installs them where npm is present)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from conftest import ROOT
from highlight_oracle import corpus, expected, hostile
from runtime import textmate

EXTENSION = ROOT / "editors/vscode"
GRAMMAR = EXTENSION / "syntaxes/nqa.tmLanguage.json"
TESTS = EXTENSION / "test"
INTENDED = {"layer": "entity.name.function.layer.nqa", "activation": "entity.name.function.activation.nqa",
            "block": "keyword.control.block.nqa", "setting": "keyword.control.setting.nqa",
            "block_name": "entity.name.type.block.nqa", "option": "variable.parameter.option.nqa",
            "member": "support.type.", "flag": "constant.language.flag.nqa", "word": "variable.other.value.nqa",
            "choice": "support.function.choice.nqa", "number": "constant.numeric.nqa",
            "shape": "constant.numeric.shape.nqa", "bracket": "punctuation.section.vector.",
            "arrow": "keyword.operator.arrow.nqa", "string": "string.quoted.double.nqa",
            "comment": "comment.line.number-sign.nqa"}
CORPUS = corpus()


def test_the_grammar_is_the_one_the_registry_makes(request):
    made = textmate.text()
    if request.config.getoption("--update-goldens"):
        GRAMMAR.write_text(made, encoding="utf-8")
    assert GRAMMAR.read_text(encoding="utf-8") == made, \
        "editors/vscode/syntaxes/nqa.tmLanguage.json is out of date: pytest --update-goldens rewrites it"


def test_the_extension_declares_the_language_the_grammar_and_the_server_setting():
    package = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    contributes = package["contributes"]
    (language,) = contributes["languages"]
    assert language["id"] == "nqa" and language["extensions"] == [".nqa"]
    configuration = json.loads((EXTENSION / language["configuration"]).read_text(encoding="utf-8"))
    assert configuration["comments"] == {"lineComment": "#"}
    assert ["[", "]"] in configuration["brackets"] and ["{", "}"] in configuration["brackets"]
    (grammar,) = contributes["grammars"]
    assert grammar["scopeName"] == json.loads((EXTENSION / grammar["path"]).read_text())["scopeName"] == "source.nqa"
    assert contributes["configuration"]["properties"]["nqa.server.path"]["default"] == "nqa"
    assert (EXTENSION / package["main"]).is_file() and "vscode-languageclient" in package["dependencies"]


def _node(script: str, *args: str) -> str:
    if shutil.which("node") is None:
        pytest.skip("node is not installed: the extension and its grammar are tested under node")
    if script == "tokenise.js" and not (TESTS / "node_modules/vscode-textmate").is_dir():
        pytest.skip("vscode-textmate and vscode-oniguruma are not installed: `make test` installs them with npm "
                    "(or run `npm ci` in editors/vscode/test)")
    done = subprocess.run(["node", str(TESTS / script), *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def scopes(tmp_path_factory) -> dict[str, list[str]]:
    """The innermost scope of each character of each text of the corpus and of the bad specs, by name."""
    folder = tmp_path_factory.mktemp("tokenised")
    texts = dict(CORPUS) | {path.name: path.read_text(encoding="utf-8", errors="replace") for path in hostile()}
    files = {}
    for n, (name, text) in enumerate(texts.items()):
        files[name] = folder / f"{n}.nqa"
        files[name].write_text(text, encoding="utf-8")
    found = json.loads(_node("tokenise.js", str(GRAMMAR), *map(str, files.values())))
    innermost: dict[str, list[str]] = {}
    for name, path in files.items():
        lines = texts[name].split("\n")
        tokenised = found[str(path)]
        assert len(tokenised) == len(lines)
        innermost[name] = []
        for line, tokens in zip(lines, tokenised, strict=True):
            chars = [scopes[-1] for start, end, scopes in tokens for _ in range(start, end)]
            assert len(chars) == len(line), "the tokens do not cover the line"
            innermost[name] += chars + ["\n"]
    return innermost


@pytest.mark.parametrize(("name", "text"), CORPUS, ids=[name for name, _ in CORPUS])
def test_every_piece_of_every_spec_gets_its_scope(name, text, scopes):
    innermost, kinds = scopes[name], expected(text)

    def where(at: int) -> str:
        start = text.rfind("\n", 0, at) + 1
        return f"line {text.count(chr(10), 0, at) + 1}: {text[start:text.find(chr(10), at)]!r}"

    wrong = [f"{kind} in {where(at)} is {innermost[at]}" for at, kind in kinds.items()
             if not innermost[at].startswith(INTENDED[kind])]
    assert not wrong, "\n".join(list(dict.fromkeys(wrong))[:10])
    posing = [f"{innermost[at]} in {where(at)} is a {kinds.get(at, 'piece of no kind')}"
              for at in range(len(text)) for kind, scope in INTENDED.items()
              if innermost[at].startswith(scope) and kinds.get(at) != kind]
    assert not posing, "\n".join(list(dict.fromkeys(posing))[:10])
    assert not any(scope.startswith("invalid.") for scope in innermost)


def test_a_spec_that_does_not_check_is_tokenised_whole(scopes):
    """Every bad spec of the tests went through the fixture: node tokenised each line without failing."""
    assert {path.name for path in hostile()} <= set(scopes)


def test_brackets_that_never_close_are_tokenised_and_a_line_cut_short_is_marked(tmp_path):
    """A line of 80,000 `[` is tokenised as quickly as one of numbers (the vector rule stops at a
    second `[`), and `[1, 2` left open to the line's end is marked as a mistake."""
    spec = tmp_path / "open.nqa"
    spec.write_text("example " + "[" * 80_000 + "\nexample [1, 2\nexample [1, 2] -> [3]\n", encoding="utf-8")
    found = json.loads(_node("tokenise.js", str(GRAMMAR), str(spec)))[str(spec)]
    assert found[0][-1][:2] == [80_007, 80_008]  # every character covered, and node did not time out
    assert found[1][-1] == [8, 13, ["source.nqa", "meta.statement.nqa", "invalid.illegal.unclosed.nqa"]]
    assert not any(scope.startswith("invalid.") for token in found[2] for scope in token[2])


def test_the_extension_starts_nqa_lsp_with_the_command_the_setting_names():
    first, restarted = json.loads(_node("activate.js"))
    assert (first["command"], first["args"]) == ("nqa", ["lsp"])
    assert {"scheme": "file", "language": "nqa"} in first["documents"]
    assert "csv" in first["watched"] and "npz" in first["watched"]
    assert (restarted["command"], restarted["running"], first["running"]) == ("/elsewhere/nqa", True, False)
    (set_one, _) = json.loads(_node("activate.js", json.dumps({"nqa.server.path": ".venv/bin/nqa"})))
    assert set_one["command"] == ".venv/bin/nqa"
