"""The fast way through a spec: Lark's LALR tables, run by a lean loop.

In: the `Lark` parser built from `grammar.lark`, and a spec's text. Out: the
`Spec`, with the vector problems found, or None for any text this loop does
not take (a character no terminal matches, a token the table does not expect):
the caller then hands that text to Lark's own parser, whose errors it reports.

Nothing here knows the grammar. The scanner is one regular expression made of
Lark's terminals, in the order Lark's basic lexer tries them; the table, the
rules and which children each rule keeps or splices in are Lark's. The loop
does what Lark's parser does for a valid text, without building a token object
for every piece of text or calling a method per token, which is most of
Lark's time on a long file.
"""

from __future__ import annotations

import re

from lark import Lark
from lark.parsers.lalr_analysis import Shift

from . import ast
from .nodes import Nodes

_new = tuple.__new__
_Span = ast.Span


class Tables:
    """What the loop needs from a Lark parser, worked out once."""

    def __init__(self, lark: Lark) -> None:
        conf = lark.parse_interactive("").parser_state.parse_conf
        self.states, self.start_state, self.end_state = conf.states, conf.start_state, conf.end_state
        terminals = sorted(lark.terminals, key=lambda t: (-t.priority, -t.pattern.max_width,
                                                           -len(t.pattern.value), t.name))
        self.scanner = re.compile("|".join(f"(?P<{t.name}>{t.pattern.to_regexp()})" for t in terminals))
        self.ignored = frozenset(lark.lexer_conf.ignore)
        # a terminal the rules keep becomes a node at once; the others are dropped
        self.makers = {t.name: getattr(Nodes, t.name, None) for t in terminals}
        self.rules = {rule: _plan(rule) for actions in self.states.values()
                      for action, rule in actions.values() if action is not Shift}
        unmade = {symbol.name for rule in self.rules for symbol in rule.expansion
                  if symbol.is_term and not symbol.filter_out and not symbol.name.startswith("_")
                  and self.makers.get(symbol.name) is None}
        if unmade:
            raise TypeError(f"grammar.lark keeps terminals that `Nodes` cannot make: {sorted(unmade)}")


def _plan(rule) -> tuple:
    """(length, the rule's name, its `Nodes` method or None when it is inlined,
    the kept children as (position, splice it in?) pairs or None when all are kept as they are)."""
    keep = []
    for index, symbol in enumerate(rule.expansion):
        if symbol.is_term:
            if not symbol.filter_out and not symbol.name.startswith("_"):
                keep.append((index, False))
        else:
            keep.append((index, symbol.name.startswith("_")))
    name = rule.origin.name
    method = None if name.startswith("_") else getattr(Nodes, name)
    plain = len(keep) == len(rule.expansion) and not any(splice for _, splice in keep)
    return len(rule.expansion), name, method, None if plain else tuple(keep)


def _kept(children: list, keep: tuple) -> list:
    kept = None
    for index, splice in keep:
        child = children[index]
        if kept is None:
            kept = child if splice else [child]  # an inlined rule's list grows in place
        elif splice:
            kept.extend(child)
        else:
            kept.append(child)
    return [] if kept is None else kept


def run(tables: Tables, text: str) -> tuple[ast.Spec, list] | None:
    """Parse `text` (which ends with a newline) into a `Spec` and the vector
    problems; None when it is not a valid spec."""
    nodes = Nodes()
    states, ignored, makers, rules = tables.states, tables.ignored, tables.makers, tables.rules
    state_stack = [tables.start_state]
    value_stack: list = []

    def reduce(rule) -> None:
        size, name, method, keep = rules[rule]
        if size:
            children = value_stack[-size:]
            del value_stack[-size:]
            del state_stack[-size:]
        else:
            children = []
        if keep is not None:
            children = _kept(children, keep)
        state_stack.append(states[state_stack[-1]][name][1])
        value_stack.append(method(nodes, children) if method else children)

    line, line_start, pos = 1, 0, 0
    try:
        for match in iter(tables.scanner.scanner(text).match, None):
            start, end = match.span()
            if start != pos:
                return None
            pos = end
            kind, piece = match.lastgroup, match.group()
            if kind not in ignored:
                maker = makers[kind]
                if maker is None:
                    value = None
                else:
                    column = start - line_start + 1
                    if "\n" in piece:
                        span = _Span(line, column, line + piece.count("\n"), end - start - piece.rindex("\n"),
                                     start, end)
                    else:
                        span = _new(_Span, (line, column, line, column + end - start, start, end))
                    value = maker(nodes, piece, span)
                while True:
                    action, arg = states[state_stack[-1]][kind]
                    if action is Shift:
                        state_stack.append(arg)
                        value_stack.append(value)
                        break
                    reduce(arg)
            if "\n" in piece:
                line += piece.count("\n")
                line_start = start + piece.rindex("\n") + 1
        if pos != len(text):
            return None
        while state_stack[-1] != tables.end_state:
            action, arg = states[state_stack[-1]]["$END"]
            if action is Shift:
                return None
            reduce(arg)
    except KeyError:  # a token the table has no action for: a syntax error
        return None
    return value_stack[-1], nodes.problems
