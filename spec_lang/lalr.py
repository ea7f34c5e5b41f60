"""The fast way through a spec: Lark's LALR tables, run by a lean loop.

In: `Tables`, worked out once from the `Lark` parser built from `grammar.lark`
(`Tables.from_lark`) or read back from plain data (`Tables.from_data`), and a
spec's text. Out: the `Spec`, with the vector problems found, or None for any
text this loop does not take (a character no terminal matches, a token the
table does not expect): the caller then hands that text to Lark's own parser,
whose errors it reports.

Nothing here knows the grammar. The scanner is one regular expression made of
Lark's terminals, in the order Lark's basic lexer tries them; the table, the
rules and which children each rule keeps or splices in are Lark's. The loop
does what Lark's parser does for a valid text, without building a token object
for every piece of text or calling a method per token, which is most of
Lark's time on a long file. Lark itself is imported only to work the tables out.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from . import ast
from .nodes import Nodes

if TYPE_CHECKING:
    from lark import Lark
    from lark.grammar import Rule

_new = tuple.__new__
_Span = ast.Span
FORMAT = 1  # the layout of `Tables.to_data`; change it when that changes

Keep = Sequence[Sequence[int]]  # the kept children as (position, splice it in?) pairs
Plan = tuple[int, str, str | None, Keep | None]  # see `_plan`
# a plan with its `Nodes` method, and its kept children as `_compact` gives them
BoundPlan = tuple[int, str, Callable[[Nodes, list[Any]], Any] | None, Keep | int | None]
# state -> symbol -> the next state (a shift) or the plan of a reduction; the loop tells them
# apart by `__class__`, on which mypy narrows only the `int` side: the other side is marked
Table = dict[int, dict[str, int | BoundPlan]]


class Tables:
    """What the loop needs: the scanner, and the table with each reduction's plan
    in place of Lark's rule. Plain data (`to_data`) apart from the compiled scanner
    and the `Nodes` methods."""

    def __init__(self, terminals: list[tuple[str, str]], ignored: list[str], multiline: list[str],
                 table: dict[int, dict[str, tuple[bool, int]]], plans: list[Plan],
                 start_state: int, end_state: int) -> None:
        self.terminals, self.plans = terminals, plans
        self.ignored, self.multiline = frozenset(ignored), frozenset(multiline)
        tokens = "|".join(f"(?P<{name}>{regexp})" for name, regexp in terminals if name not in self.ignored)
        if self.ignored & self.multiline:  # ignored text that may hold a line break is a match of its own
            self.scanner = re.compile("|".join(f"(?P<{name}>{regexp})" for name, regexp in terminals))
        else:  # else it is skipped before each token, in the same match: half as many matches
            skipped = "|".join(regexp for name, regexp in terminals if name in self.ignored)
            # the skipping is atomic (a lookahead, then what it took): were it not, a run of
            # blanks before a character no terminal takes would be split every possible way
            self.scanner = re.compile(f"(?=((?:{skipped})*))\\1(?:{tokens}|\\Z)" if skipped else tokens)
        # a terminal the rules keep becomes a node at once; the others are dropped
        self.makers: dict[str, Callable[[Nodes, str, ast.Span], Any] | None] = {
            name: getattr(Nodes, name, None) for name, _ in terminals}
        bound = [(size, name, getattr(Nodes, method) if method else None, _compact(keep))
                 for size, name, method, keep in plans]
        self.raw_table = table
        # a shift is the next state (an int), a reduction its plan (a tuple)
        self.table: Table = {state: {symbol: arg if shift else bound[arg] for symbol, (shift, arg) in row.items()}
                      for state, row in table.items()}
        self.start_state, self.end_state = start_state, end_state

    @classmethod
    def from_lark(cls, lark: Lark) -> Tables:
        from lark.parsers.lalr_analysis import Shift

        conf = lark.parse_interactive("").parser_state.parse_conf
        terminals = sorted(lark.terminals, key=lambda t: (-t.priority, -t.pattern.max_width,
                                                           -len(t.pattern.value), t.name))
        pairs = [(t.name, t.pattern.to_regexp()) for t in terminals]
        numbers = {state: n for n, state in enumerate(conf.states)}
        plans: list[Plan] = []
        planned: dict[Rule, int] = {}

        def plan_of(rule: Rule) -> int:
            if rule not in planned:
                planned[rule] = len(plans)
                plans.append(_plan(rule))
            return planned[rule]

        table = {numbers[state]: {symbol: (True, numbers[arg]) if action is Shift else (False, plan_of(arg))
                                  for symbol, (action, arg) in row.items()}
                 for state, row in conf.states.items()}
        multiline = [name for name, regexp in pairs if _may_hold_newline(regexp)]
        return cls(pairs, sorted(lark.lexer_conf.ignore), multiline, table, plans,
                   numbers[conf.start_state], numbers[conf.end_state])

    def to_data(self) -> dict[str, Any]:
        return {"format": FORMAT, "terminals": self.terminals, "ignored": sorted(self.ignored),
                "multiline": sorted(self.multiline), "plans": self.plans, "start": self.start_state,
                "end": self.end_state, "table": [[state, sorted(row.items())] for state, row in self.raw_table.items()]}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Tables:
        """From `to_data`'s dict as JSON gives it back; ValueError for anything else."""
        if data.get("format") != FORMAT or not _well_formed(data):
            raise ValueError("not tables of this format")
        table = {state: {symbol: (bool(shift), arg) for symbol, (shift, arg) in row} for state, row in data["table"]}
        return cls([tuple(t) for t in data["terminals"]], data["ignored"], data["multiline"], table,
                   [tuple(p) for p in data["plans"]], data["start"], data["end"])


def _well_formed(data: dict[str, Any]) -> bool:
    """The shapes and types `to_data` writes, and a table whose every state and plan is there."""
    def strings(items: object, size: int | None = None) -> bool:
        return isinstance(items, list) and all(isinstance(x, str) for x in items) and size in (None, len(items))

    terminals, plans, table = data.get("terminals"), data.get("plans"), data.get("table")
    if not (isinstance(terminals, list) and all(strings(t, 2) and t[0].isidentifier() for t in terminals)
            and strings(data.get("ignored")) and strings(data.get("multiline"))
            and isinstance(plans, list) and isinstance(table, list)):
        return False
    for plan in plans:
        if not (isinstance(plan, list) and len(plan) == 4 and isinstance(plan[0], int) and isinstance(plan[1], str)
                and (plan[2] is None or (isinstance(plan[2], str) and hasattr(Nodes, plan[2])))
                and (plan[3] is None or isinstance(plan[3], list))):
            return False
    states = {row[0] for row in table if isinstance(row, list) and len(row) == 2 and isinstance(row[0], int)}
    if len(states) != len(table) or not {data.get("start"), data.get("end")} <= states:
        return False
    for _, row in table:
        for entry in row:
            if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)
                    and isinstance(entry[1], list) and len(entry[1]) == 2 and isinstance(entry[1][1], int)):
                return False
            shift, arg = entry[1]
            if arg not in states if shift else not 0 <= arg < len(plans):
                return False
    return True


def _may_hold_newline(regexp: str) -> bool:
    """As Lark's lexer judges it: only such tokens are searched for line breaks."""
    return "\n" in regexp or "\\n" in regexp or "\\s" in regexp or "[^" in regexp or (
        "(?s" in regexp and "." in regexp)


def _plan(rule: Rule) -> Plan:
    """(length, the rule's name, the name of its `Nodes` method or None when it is
    inlined, the kept children as (position, splice it in?) pairs, or None when
    all are kept as they are)."""
    keep: list[tuple[int, bool]] = []
    for index, symbol in enumerate(rule.expansion):
        if symbol.is_term:
            if not symbol.filter_out and not symbol.name.startswith("_"):  # type: ignore[attr-defined]  # a Terminal
                if getattr(Nodes, symbol.name, None) is None:
                    raise TypeError(f"grammar.lark keeps {symbol.name}, which `Nodes` cannot make")
                keep.append((index, False))
        else:
            keep.append((index, symbol.name.startswith("_")))
    name = rule.origin.name
    method = None if name.startswith("_") else name
    plain = len(keep) == len(rule.expansion) and not any(splice for _, splice in keep)
    return len(rule.expansion), name, method, None if plain else tuple(keep)


def _compact(keep: Keep | None) -> Keep | int | None:
    """A list rule's usual shape, `__x_star: __x_star item`, as the item's
    position alone; other kept-children lists as tuples of pairs."""
    if keep is None:
        return None
    keep = tuple(map(tuple, keep))
    if len(keep) == 2 and keep[0] == (0, True) and not keep[1][1]:
        return keep[1][0]
    return keep


def _kept(children: list[Any], keep: Keep) -> list[Any]:
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


def run(tables: Tables, text: str) -> tuple[ast.Spec, Nodes] | None:
    """Parse `text` (which ends with a newline) into a `Spec` and the `Nodes` that
    made it (with the vector problems); None when it is not a valid spec."""
    nodes = Nodes()
    table, ignored, multiline, makers = tables.table, tables.ignored, tables.multiline, tables.makers
    end_state, size_of_text = tables.end_state, len(text)
    state = tables.start_state
    state_stack = [state]
    value_stack: list[Any] = []
    line, line_start, pos = 1, 0, 0
    # `scanner().match` goes on from where the last match ended and stops at the
    # first character no terminal takes: the text is all read if it ends at its end
    match: re.Match[str]
    for match in iter(tables.scanner.scanner(text).match, None):  # type: ignore[attr-defined]
        kind = match.lastgroup
        pos = match.end()
        if kind is None:  # ignored text up to the end
            break
        if kind in ignored:
            if kind in multiline and "\n" in match.group():
                piece, start = match.group(), match.start()
                line, line_start = line + piece.count("\n"), start + piece.rindex("\n") + 1
            continue
        maker = makers[kind]
        if maker is None:
            value = None
        else:
            start = match.start(kind)
            piece = text[start:pos]
            column = start - line_start + 1
            if kind in multiline and "\n" in piece:
                span = _Span(line, column, line + piece.count("\n"), pos - start - piece.rindex("\n"), start, pos)
            else:
                span = _new(_Span, (line, column, line, column + pos - start, start, pos))
            value = maker(nodes, piece, span)
        while True:
            action = table[state].get(kind)
            if action is None:  # a token the table has no action for: a syntax error
                return None
            if action.__class__ is int:
                state = action
                state_stack.append(state)
                value_stack.append(value)
                break
            state = _reduce(action, state_stack, value_stack, table, nodes)  # type: ignore[arg-type]
        if kind in multiline:
            start = match.start(kind)
            piece = text[start:pos]
            if "\n" in piece:
                line, line_start = line + piece.count("\n"), start + piece.rindex("\n") + 1
    if pos != size_of_text:
        return None
    while state != end_state:  # the end of the text: what is left to reduce
        action = table[state].get("$END")
        if action is None or action.__class__ is int:
            return None
        state = _reduce(action, state_stack, value_stack, table, nodes)  # type: ignore[arg-type]
    return value_stack[-1], nodes


def _reduce(plan: BoundPlan, state_stack: list[int], value_stack: list[Any], table: Table, nodes: Nodes) -> int:
    """Replace a rule's symbols on the stacks with the rule's node (or, for an
    inlined rule, the list of its kept children); the new state."""
    size, name, method, keep = plan
    if size:
        children = value_stack[-size:]
        del value_stack[-size:]
        del state_stack[-size:]
    else:
        children = []
    if keep is not None:
        if keep.__class__ is int:  # the list so far, grown by one item in place
            grown = children[0]
            grown.append(children[keep])
            children = grown
        else:
            children = _kept(children, keep)  # type: ignore[arg-type]
    state: int = table[state_stack[-1]][name]  # type: ignore[assignment]  # a goto: always a state
    state_stack.append(state)
    value_stack.append(method(nodes, children) if method else children)
    return state
