"""What the MCP tools accept: each argument's type with its bounds, which the SDK publishes in the
tools' input schemas (tools/list) and checks every call against, and the one line per bad
argument that tells an agent what it sent and what would do."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, Strict
from pydantic.fields import FieldInfo

from paperroute import search
from paperroute.search.query import MAX_QUERY_CHARS
from paperroute.web import api

# What a string argument of each pattern is, in words: the errors name it.
FORMS: dict[str, str] = {}


def _form(pattern: str, says: str) -> str:
    FORMS[pattern] = says
    return pattern


def _api_field(schema, name: str, says: str = "") -> FieldInfo:
    """The JSON API's own field (its pattern or bounds and its description), so that a tool
    accepts what the API does; `says` names its pattern in errors."""
    info = schema.model_fields[name]
    if says:
        _form(_pattern(info), says)
    return info


def _pattern(info: FieldInfo) -> str:
    return next(c.pattern for c in info.metadata if getattr(c, "pattern", None))


def _whole(value: Any) -> Any:
    # JSON's true is no number, though pydantic would read it as 1; nor is the text "5", which
    # it would read as 5: a client that sends it has a bug, and is told. A number with no
    # fraction (5.0) is one, as JSON Schema's "integer" says.
    if isinstance(value, bool):
        raise ValueError("true or false is not a number")
    if isinstance(value, str):
        raise ValueError("text is not a number")
    return value


WHOLE = BeforeValidator(_whole)
# JSON's true or false only: pydantic would read "true", "no", 1 and 0 as booleans.
TRUE_OR_FALSE = Strict()


def _real_day(value: str | None) -> str | None:
    # The schema's "format": "date" refuses 2024-02-30, which has the pattern's form.
    if value is not None:
        date.fromisoformat(value)
    return value


REAL_DAY = AfterValidator(_real_day)

# Text with something visible in it: a character that is blank neither to Python's strip() (which
# the search applies) nor to a client's regex engine (JavaScript's \s holds the byte order mark).
VISIBLE = _form(r"[^\s\x00-\x1f\x7f\x85\ufeff]", "text with something besides spaces in it")
DAY = _form(_pattern(api.PeriodQuery.model_fields["date"]), "a date as YYYY-MM-DD")
# What GET /api/papers/{id} takes; no paper key is longer than 300 characters, and a prefix
# (arXiv:, a link to arXiv) or a version adds a few.
PAPER_ID = _form(
    rf"^[^{api.ID_CHARS}]+$", "a paper's id such as 2411.17700 or doi:…, with no control characters"
)
# An abstract pasted whole is searched by its first 1,000 characters (and the answer says so);
# text much longer than that is no query.
MAX_QUERY = 10 * MAX_QUERY_CHARS

Query = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_QUERY,
        pattern=VISIBLE,
        description=f"what to search for, in the query syntax above; the first {MAX_QUERY_CHARS:,} "
        "characters are searched",
    ),
]
Mode = Annotated[
    Literal["hybrid", "lexical", "semantic"],
    Field(description="hybrid (words and meaning), lexical (words only) or semantic (meaning only)"),
]
Day = Annotated[str, Field(pattern=DAY, json_schema_extra={"format": "date"}), REAL_DAY]
Since = Annotated[Day | None, Field(description="only papers listed on this day or later, YYYY-MM-DD")]
Until = Annotated[Day | None, Field(description="only papers listed on this day or earlier, YYYY-MM-DD")]
Category = Annotated[
    Annotated[str, Field(min_length=1, max_length=64)] | None,
    Field(description="only papers in this category or archive, such as cs.CL or cs"),
]
Exact = Annotated[
    bool, Field(description="search the words as typed, without correcting typos"), TRUE_OR_FALSE
]
# Past the first 1,000 results there is nothing to page to, even 1 at a time.
SearchPage = Annotated[
    int,
    Field(
        ge=0,
        le=search.MAX_TOTAL - 1,
        description=f"page number, from 0; the first {search.MAX_TOTAL:,} results can be paged through",
    ),
    WHOLE,
]
Limit = Annotated[int, Field(ge=1, le=100, description="papers per page"), WHOLE]

# daily_papers and recommendations take what GET /api/daily_papers and /api/recommendations do.
Date = Annotated[
    Annotated[str, Field(json_schema_extra={"format": "date"})] | None,
    _api_field(api.PeriodQuery, "date"),
    REAL_DAY,
]
Week = Annotated[str | None, _api_field(api.PeriodQuery, "week", "an ISO week as YYYY-Www, such as 2024-W48")]
Month = Annotated[str | None, _api_field(api.PeriodQuery, "month", "a month as YYYY-MM")]
# Not the API's own description, which names its `submitter`: the tool has none.
Sort = Annotated[
    Literal["publishedAt", "trending", "upvotes"],
    Field(
        description="publishedAt (newest first), trending (votes that fade with time; without a date, "
        "week or month, what trends now across all days) or upvotes (most upvoted first)"
    ),
]
DailyPage = Annotated[int, _api_field(api.DailyQuery, "p"), WHOLE]
DailyLimit = Annotated[int, _api_field(api.DailyQuery, "limit"), WHOLE]
PicksLimit = Annotated[int, _api_field(api.RecommendationsQuery, "limit"), WHOLE]

PaperId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=400,
        pattern=PAPER_ID,
        description="an arXiv id such as 2411.17700 (with a version, arXiv:, or as a link to it on "
        "arXiv or Hugging Face), a DOI, or the site's doi:…, url:… or seed:… ids",
    ),
]
Comments = Annotated[bool, Field(description="also its visible comments, oldest first"), TRUE_OR_FALSE]
Upvoted = Annotated[bool, Field(description="true to upvote, false to withdraw your upvote"), TRUE_OR_FALSE]
Related = Annotated[int, Field(ge=1, le=100, description="how many papers"), WHOLE]
Token = Annotated[
    Annotated[str, Field(max_length=200)] | None,
    Field(description="your personal API token (prt_…), when the Authorization header does not carry it"),
]
# The reader's own secret: an error never repeats it.
SECRET = {"token"}


# -- errors ----------------------------------------------------------------------------------


def explain(errors: Sequence[Mapping[str, Any]], schema: dict, names: dict[str, str] | None = None) -> str:
    """One line for each bad argument in pydantic's errors: its name, what it takes (from the
    input schema the client was given) and what came."""
    properties = schema.get("properties", {})
    lines: dict[str, str] = {}
    for error in errors:
        field = str(error["loc"][0]) if error["loc"] else ""
        name = (names or {}).get(field, field)
        if name in lines or field not in properties:
            continue
        takes = accepts(properties[field])
        if error["type"] == "missing":
            lines[name] = f"{name} is required: {takes}"
        elif name in SECRET:
            lines[name] = f"{name} must be {takes}"
        else:
            lines[name] = f"{name} must be {takes} (got {shown(error['input'])})"
    return "\n".join(lines.values()) or "the arguments do not fit the tool's input schema"


def unknown(tool: str, arguments: dict, schema: dict) -> str:
    """The arguments the tool has no such name for, with the names it has; "" if none."""
    properties = schema.get("properties", {})
    extra = [name for name in arguments if name not in properties]
    if not extra:
        return ""
    takes = _listed(list(properties), "and")
    return "\n".join(f"{tool} has no argument {shown(name)}: it takes {takes}" for name in extra)


def accepts(prop: dict) -> str:
    """What an argument's JSON schema takes, in words."""
    value = next((arm for arm in prop.get("anyOf", [prop]) if arm.get("type") != "null"), prop)
    if "enum" in value:
        return "one of " + _listed([json.dumps(v) for v in value["enum"]], "or")
    kind = value.get("type")
    if kind == "boolean":
        return "true or false"
    if kind == "integer":
        low, high = value.get("minimum"), value.get("maximum")
        if low is not None and high is not None:
            return f"a whole number from {low:,} to {high:,}"
        return f"a whole number, {low:,} or more" if low is not None else "a whole number"
    if kind == "string":
        said = FORMS.get(value.get("pattern", ""))
        low, high = value.get("minLength", 0), value.get("maxLength")
        if said is None:
            if high is None:
                return "text"
            span = f"{low:,} to {high:,}" if low else f"at most {high:,}"
            return f"text of {span} characters"
        return f"{said}, at most {high:,} characters" if high else said
    return f"of JSON type {kind}" if kind else "as the input schema says"


def shown(value: Any) -> str:
    """A value as JSON on one line, cut short: control characters and line breaks escaped."""
    if isinstance(value, str) and len(value) > 60:
        text = json.dumps(value[:50], ensure_ascii=False)[:-1] + f'…" ({len(value):,} characters)'
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
        if len(text) > 80:
            text = text[:70] + "…"
    return "".join(
        f"\\u{ord(ch):04x}" if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text
    )


def _listed(words: list[str], last: str) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"
