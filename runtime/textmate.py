"""The TextMate grammar of .nqa (VS Code and the editors that read TextMate grammars), made
from the registry and the grammar so that it cannot drift from the language.

In: `vocabulary.words()` (the statement names by kind, each family's members, the bare words)
and `vocabulary.terminals()` (numbers, shapes, names, strings, comments, vectors as the parser
reads them). Out: `grammar()`, the grammar as a dict, and `text()`, its JSON as kept in
`editors/vscode/syntaxes/nqa.tmLanguage.json`; a test compares the two, and
`pytest tests/test_highlight_textmate.py --update-goldens` rewrites the file.

Scopes: a statement's name is `entity.name.function.layer`, `entity.name.function.activation`,
`keyword.control.block` or `keyword.control.setting` (`entity.name.type.block` for a named
block); `variable.parameter.option` for `name=`, `support.type.<family>` for the word after
`optimizer`, `loss`, `schedule`, `init`; `constant.language.flag` for a statement's bare words,
`variable.other.value` for other words; `constant.numeric` (`.shape` for `1x8x8`),
`punctuation.section.vector` for a vector's brackets, `keyword.operator.arrow` for `->`,
`string.quoted.double`, `comment.line.number-sign`; each with the suffix `.nqa`.
"""

from __future__ import annotations

import json
import re
from typing import Any

from .vocabulary import Words, terminals, words

SCOPE = "source.nqa"
LAYER_SCOPES = {"layer": "entity.name.function.layer", "activation": "entity.name.function.activation",
                "block": "keyword.control.block", "setting": "keyword.control.setting"}
BLOCK_NAME = "entity.name.type.block"
STATEMENT_END = "(?=[;{}#])|$"  # a statement ends at a line's end, `;`, braces, or a comment
Rule = dict[str, Any]


def _regex(name: str) -> str:
    """A grammar token's expression, its groups made non-capturing (so that a rule's captures count only its own)."""
    return re.sub(r"(?<!\\)\((?!\?)", "(?:", terminals()[name])


def _one_of(names: tuple[str, ...]) -> str:
    """Any of `names`, as a whole word; the longest first, as an alternation tries them in order."""
    return r"\b(" + "|".join(sorted(names, key=lambda n: (-len(n), n))) + r")\b"


def _scoped(scope: str) -> dict[str, str]:
    return {"name": f"{scope}.nqa"}


def _statement(begin: str, captures: dict[str, str]) -> Rule:
    return {"begin": begin, "beginCaptures": {group: _scoped(scope) for group, scope in captures.items()},
            "end": STATEMENT_END, "name": "meta.statement.nqa", "patterns": [{"include": "#arguments"}]}


def _statements(vocabulary: Words) -> list[Rule]:
    """The rules for a statement's name (and, for `block` and a family, the word after it), most specific first."""
    space = r"[ \t]+"
    rules = [_statement(rf"\b({vocabulary.definition})\b(?:{space}({_regex('NAME')}))?",
                        {"1": LAYER_SCOPES["block"], "2": BLOCK_NAME})]
    rules += [_statement(rf"\b({family})\b(?:{space}{_one_of(members)})?",
                         {"1": LAYER_SCOPES["setting"], "2": f"support.type.{family}"})
              for family, members in vocabulary.families.items()]
    kinds = {"layer": vocabulary.layers, "activation": vocabulary.activations,
             "block": tuple(n for n in vocabulary.blocks if n != vocabulary.definition),
             "setting": tuple(n for n in vocabulary.settings if n not in vocabulary.families)}
    rules += [_statement(_one_of(names), {"1": LAYER_SCOPES[kind]}) for kind, names in kinds.items()]
    rules.append(_statement(f"({_regex('NAME')})", {"1": BLOCK_NAME}))  # a named block's use
    return rules


def _values(vocabulary: Words) -> list[Rule]:
    """What an option's value or a bare argument may be, in the order the scanner tries them."""
    name = _regex("NAME")
    return [
        {"match": _regex("STRING"), "name": "string.quoted.double.nqa"},
        # the grammar's VECTOR, but stopping at a second `[` (vectors do not nest): the scanner
        # tries a rule at every place of a line, and one scanning on to the line's end from each
        # `[` took time growing with the square of a line of brackets
        {"begin": r"(?=\[[^\[\]\n]*\])(\[)", "end": r"\]", "name": "meta.vector.nqa",
         "beginCaptures": {"1": _scoped("punctuation.section.vector.begin")},
         "endCaptures": {"0": _scoped("punctuation.section.vector.end")},
         "patterns": [{"match": _regex("NUMBER"), "name": "constant.numeric.nqa"},
                      {"match": ",", "name": "punctuation.separator.comma.nqa"},
                      {"match": r"[^\s,\]]+", "name": "invalid.illegal.item.nqa"}]},
        {"match": r"\[[^\[\]\n]*$", "name": "invalid.illegal.unclosed.nqa"},  # `[1, 2` to the line's end
        {"begin": rf"({name})[ \t]*(\()", "end": r"\)|$", "name": "meta.choice.nqa",
         "beginCaptures": {"1": _scoped("support.function.choice"), "2": _scoped("punctuation.section.parens.begin")},
         "endCaptures": {"0": _scoped("punctuation.section.parens.end")},
         "patterns": [{"include": "#values"}]},
        {"match": _regex("SHAPE"), "name": "constant.numeric.shape.nqa"},
        {"match": _regex("NUMBER"), "name": "constant.numeric.nqa"},
        {"match": _one_of(vocabulary.flags), "name": "constant.language.flag.nqa"},
        {"match": name, "name": "variable.other.value.nqa"},
        {"match": ",", "name": "punctuation.separator.comma.nqa"},
    ]


def grammar() -> dict[str, Any]:
    vocabulary = words()
    return {
        "$schema": "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
        "comment": "made by runtime/textmate.py from the registry and the grammar; do not edit by hand",
        "name": "nqa",
        "scopeName": SCOPE,
        "fileTypes": ["nqa"],
        "patterns": [{"include": "#statements"}],
        "repository": {
            "statements": {"patterns": [
                {"include": "#comment"},
                {"match": ";", "name": "punctuation.terminator.statement.nqa"},
                {"begin": r"\{", "end": r"\}", "name": "meta.block.nqa",
                 "beginCaptures": {"0": _scoped("punctuation.section.block.begin")},
                 "endCaptures": {"0": _scoped("punctuation.section.block.end")},
                 "patterns": [{"include": "#statements"}]},
                {"match": r"\}", "name": "invalid.illegal.brace.nqa"},
                *_statements(vocabulary)]},
            "comment": {"match": _regex("COMMENT"), "name": "comment.line.number-sign.nqa"},
            "arguments": {"patterns": [
                {"match": rf"({_regex('NAME')})[ \t]*(=)",
                 "captures": {"1": _scoped("variable.parameter.option"), "2": _scoped("keyword.operator.assignment")}},
                {"match": _regex("ARROW"), "name": "keyword.operator.arrow.nqa"},
                {"match": _regex("STAR"), "name": "keyword.operator.times.nqa"},
                {"include": "#values"}]},
            "values": {"patterns": _values(vocabulary)},
        },
    }


def text() -> str:
    return json.dumps(grammar(), indent=2, ensure_ascii=False) + "\n"
