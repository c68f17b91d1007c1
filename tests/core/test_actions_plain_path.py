"""The parser's fast paths against its careful rules.

Whatever the body, ``_plain_calls`` either declines (None) or returns exactly the calls
``_CallReader`` returns (escapes decoded alike); bodies the reader rejects are never accepted by
it, and it declines in linear time on the long runs that make a careless regex backtrack. A
point that ``_PLAIN_POINT`` reads has the numbers the general rule finds.
"""

from __future__ import annotations

import time

from hypothesis import example, given, settings
from hypothesis import strategies as st

from rllib_arpo.core.actions import (
    _BOX_TOKENS,
    _NUMBER,
    _PLAIN_POINT,
    _POINT_FILLER,
    MAX_ACTIONS_PER_RESPONSE,
    _CallReader,
    _ParseError,
    _plain_calls,
)

FUZZ = settings(max_examples=400, deadline=None, derandomize=True, database=None)


def mostly(valid: list[str], invalid: list[str]) -> st.SearchStrategy[str]:
    """A valid piece nine times in ten: most bodies reach the fast path."""
    return st.integers(0, 9).flatmap(
        lambda n: st.sampled_from(invalid) if n == 9 else st.sampled_from(valid)
    )


names = mostly(["click", "type", "drag", "x", "_a1", "a" * 32], ["a" * 33, "9bad", "hot key"])
keys = mostly(["start_box", "content", "key", "k", "b" * 32], ["b" * 33, "", "1x"])
values = mostly(
    [
        "'(10,20)'",
        '"(3,4)"',
        "''",
        '""',
        "'x=\"y\"'",
        '"a,b)c"',
        "'\n'",
        "'é'",
        "'a, b=\"c\"'",
        "'a\\'b'",
        "'a\\\\'",
        "'tab\\t\\q'",
        '"q\\"uote"',
        "'\\\n'",
    ],
    ["'unterminated", "'it''s'", "12", "'ends\\", "'a\\'"],
)
gaps = st.sampled_from(["", " ", "\n", "\t ", "\u00a0"])


@st.composite
def bodies(draw: st.DrawFn) -> str:
    calls = []
    count = st.sampled_from([1, 1, 1, 2, 2, 3, 0, MAX_ACTIONS_PER_RESPONSE + 1])
    for _ in range(draw(count)):
        args = [
            f"{draw(keys)}{draw(gaps)}={draw(gaps)}{draw(values)}{draw(gaps)}"
            for _ in range(draw(st.sampled_from([0, 1, 1, 2, 2, 3, 4])))
        ]
        joiner = draw(mostly([",", ", ", " ,", " , "], [",,", " "]))
        trailing = draw(mostly(["", ",", ", "], [",,"]))
        calls.append(
            f"{draw(gaps)}{draw(names)}{draw(gaps)}({draw(gaps)}{joiner.join(args)}"
            f"{trailing if args else ''}{draw(gaps)}){draw(mostly(['', ' '], [')', '(']))}"
        )
    return "".join(calls) + draw(gaps)


def careful(body: str) -> list | str:
    try:
        return _CallReader(body).read_calls()
    except _ParseError as reason:
        return f"error: {reason}"


@FUZZ
@given(bodies())
@example("click(start_box='(1,2)')")
@example("click(start_box='(1,2)',)\ntype(content=\"hi\")  ")
@example("click(a='1' b='2')")
@example("click(a='1',,)")
@example("click(,)")
@example("click(a='1', a='2')")
@example("   ")
@example("a" * 33 + "(k='1')")  # names longer than MAX_NAME_CHARS are the reader's to refuse
@example("click(" + "b" * 33 + "='1')")
@example("click(a='1', b='2', c='3')")  # three arguments: the reader's
@example(r"type(content='tab\t\q end\\')")  # known escapes decode, others stay literal
@example(r'type(content="q\"uote\' \n")')
@example("type(content='a\\\nb')")  # a backslash before a newline
def test_the_fast_path_returns_what_the_reader_returns_or_declines(body: str) -> None:
    plain = _plain_calls(body)
    if plain is not None:
        assert plain == careful(body)


def test_it_takes_the_common_answers() -> None:
    for body in ("click(start_box='(1,2)')", "drag(start_box='(1,2)', end_box=\"(3,4)\")\n",
                 "type(content='')", "finished()"):  # fmt: skip
        assert _plain_calls(body) is not None, body


def test_it_declines_in_linear_time_on_long_runs_of_spaces() -> None:
    for body in (
        "click(a='1'" + " " * 30_000 + "x",
        "click(" + " " * 30_000,
        "a" + " " * 30_000,
        "click(a='" + "\\x" * 15_000,
    ):
        started = time.perf_counter()
        assert _plain_calls(body) is None
        assert time.perf_counter() - started < 2  # quadratic backtracking takes minutes


point_pieces = st.sampled_from(
    ["(", ")", "[", "]", ",", " ", "1", "23", "-4", "+5", ".5", "6.", "7.5", "1e3", "e", ".", "-",
     "<|box_start|>", "\n", "x"]
)  # fmt: skip


@FUZZ
@given(st.lists(point_pieces, max_size=12).map("".join))
@example("(12,34)")
@example("(1234)")
@example("(12-34)")
@example("(1.5.5,3)")
@example("[1, 2, 3, 4]")
def test_the_plain_point_reads_the_numbers_the_general_rule_reads(value: str) -> None:
    plain = _PLAIN_POINT.fullmatch(value)
    if plain is not None:
        cleaned = _BOX_TOKENS.sub(" ", value)
        assert list(plain.groups()) == _NUMBER.findall(cleaned)
        assert _POINT_FILLER.sub("", _NUMBER.sub(" ", cleaned)) == ""
