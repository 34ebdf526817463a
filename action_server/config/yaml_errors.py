"""Turn PyYAML's parser errors into a position and a sentence a flow author can act on.

PyYAML reports an unclosed ``[``, ``{`` or quote where it gave up (the end of the file),
which points the reader at the wrong place; the construct's start (``context_mark``) is
where the fix goes. Parser jargon (``<block end>``) is translated into plain words.
"""

from __future__ import annotations

from dataclasses import dataclass

import yaml

__all__ = ["YamlProblem", "describe_yaml_error"]

# PyYAML's context text -> what a reader calls the construct that was left open.
_OPENED = {
    "while parsing a flow sequence": "flow sequence '['",
    "while parsing a flow mapping": "flow mapping '{'",
    "while scanning a quoted scalar": "quoted string",
    "while scanning a double-quoted scalar": "quoted string",
    "while scanning a single-quoted scalar": "quoted string",
}


@dataclass(frozen=True)
class YamlProblem:
    """Where to point (1-based) and what to say."""

    line: int
    column: int
    message: str


def describe_yaml_error(exc: yaml.MarkedYAMLError, text: str) -> YamlProblem:
    """The position and message for ``exc`` raised while parsing ``text``."""
    problem = exc.problem or ""
    context = exc.context or ""
    problem_mark, context_mark = exc.problem_mark, exc.context_mark
    at_end = _reached_end(problem, problem_mark, text)

    opened = _OPENED.get(context)
    if opened is not None and at_end and context_mark is not None:
        if opened == "quoted string":
            quote = _char_at(text, context_mark)
            return _at(
                context_mark, f"unclosed quoted string: no closing {quote} before the end of file"
            )
        return _at(context_mark, f"unclosed {opened} (reached end of file)")

    if at_end:
        opener = _unclosed_flow_opener(text)
        if opener is not None:
            opened_at, bracket = opener
            kind = "flow sequence" if bracket == "[" else "flow mapping"
            return _at(opened_at, f"unclosed {kind} '{bracket}' (reached end of file)")
    if problem.startswith("could not find expected ':'") and context_mark is not None:
        # The scanner only notices at the next line; the key it could not finish is here.
        return _at(context_mark, "this line needs a ':' after its key (or a closing quote)")
    if problem_mark is None:
        mark = context_mark
        message = problem or context or "invalid YAML"
    else:
        mark = problem_mark
        message = _plain_problem(problem, context, context_mark, at_end)
    return _at(mark, message)


def _plain_problem(problem: str, context: str, context_mark: yaml.Mark | None, at_end: bool) -> str:
    if problem.startswith("expected <block end>"):
        block = (
            f"the block starting at line {context_mark.line + 1}" if context_mark else "its block"
        )
        if problem.endswith("'-'"):
            return f"bad indentation: a list item ('- ') where {block} expects a key"
        return f"bad indentation: this line does not line up with {block}"
    if problem.startswith("found undefined alias"):
        name = problem.rsplit(" ", 1)[-1].strip("'")
        return f"'*{name}' refers to an anchor '&{name}' that is not defined before it"
    if problem == "mapping values are not allowed here":
        return (
            "unexpected ':' - a key cannot start in the middle of a value "
            "(check the indentation, or quote a value that contains ': ')"
        )
    if "cannot start any token" in problem and "'\\t'" in problem:
        return "tab character: YAML indentation must use spaces"
    if problem == "but found another document":
        return "a second YAML document ('---') in one file; put each in its own file"
    if at_end and problem.startswith("expected the node content"):
        return "the file ends where a value is expected (an unclosed '[' or '{'?)"
    opened = _OPENED.get(context)
    if opened is not None and context_mark is not None:
        return f"{problem} (in the {opened} that starts at line {context_mark.line + 1})"
    return problem or context or "invalid YAML"


def _unclosed_flow_opener(text: str) -> tuple[yaml.Mark, str] | None:
    """The innermost '[' or '{' still open when the file ends, from PyYAML's own tokens.

    Used when the parser's context does not say which bracket was left open.
    """
    openers: list[tuple[yaml.Mark, str]] = []
    try:
        for token in yaml.scan(text, Loader=yaml.SafeLoader):
            if isinstance(token, yaml.FlowSequenceStartToken):
                openers.append((token.start_mark, "["))
            elif isinstance(token, yaml.FlowMappingStartToken):
                openers.append((token.start_mark, "{"))
            elif isinstance(token, (yaml.FlowSequenceEndToken, yaml.FlowMappingEndToken)):
                if openers:
                    openers.pop()
    except yaml.YAMLError:
        pass  # the tokens up to the error are what we need
    return openers[-1] if openers else None


def _reached_end(problem: str, mark: yaml.Mark | None, text: str) -> bool:
    if "<stream end>" in problem or "end of stream" in problem:
        return True
    return mark is not None and mark.index >= len(text.rstrip())


def _char_at(text: str, mark: yaml.Mark) -> str:
    return text[mark.index] if 0 <= mark.index < len(text) else ""


def _at(mark: yaml.Mark | None, message: str) -> YamlProblem:
    if mark is None:
        return YamlProblem(1, 1, message)
    return YamlProblem(mark.line + 1, mark.column + 1, message)
