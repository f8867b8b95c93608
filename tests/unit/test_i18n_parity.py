"""Every message exists in both languages: one test per catalogue, each failure naming the file
and the key that one language has and the other lacks.

Catalogues: the API's messages (``chalicelib/i18n/catalogue.py``), the notification texts
(``notify/messages.py``), the open-data column titles (``publish/columns.py``), the published
pages' texts (``publish/messages.py``, and every key their templates use), the category
names (``data/categories.json``) and every site module's ``MESSAGES`` table
(``site/docs/assets/js/*.js``) and message module (``assets/js/messages/<language>/*.js``),
read by a small JavaScript object-literal key extractor.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from chalicelib.i18n.catalogue import MESSAGES
from chalicelib.notify import messages as notify_messages
from chalicelib.publish.columns import COLUMN_TITLES
from chalicelib.publish.render import BOARD_COLUMNS, CSV_COLUMNS

ROOT = Path(__file__).resolve().parents[2]
JS_DIR = ROOT / "site" / "docs" / "assets" / "js"
LANGUAGES = ("en", "zh")


def flat_keys(table: Mapping[str, Any], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for key, value in table.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            keys |= flat_keys(value, f"{path}.")
        else:
            keys.add(path)
    return keys


def parity_problems(where: str, tables: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """``<where>: key "<k>" is in en but not in zh`` for every one-sided key."""
    problems = []
    keys = {lang: flat_keys(tables.get(lang, {})) for lang in LANGUAGES}
    for lang in LANGUAGES:
        if lang not in tables:
            problems.append(f"{where}: no {lang!r} table at all")
    for lang in LANGUAGES:
        for other in LANGUAGES:
            for key in sorted(keys[lang] - keys[other]):
                problems.append(f"{where}: key {key!r} is in {lang!r} but not in {other!r}")
    return problems


# -- a small extractor of JavaScript object-literal keys --------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`(?:\\.|[^`\\])*`)
  | (?P<name>[A-Za-z_$][\w$]*)
  | (?P<number>\d[\w.]*)
  | (?P<punct>[{}\[\](),:;?.+\-*/%=!<>&|^~])
    """,
    re.VERBOSE | re.DOTALL,
)


def _tokens(source: str) -> Iterator[tuple[str, str]]:
    pos = 0
    while pos < len(source):
        match = _TOKEN.match(source, pos)
        if match is None:
            raise ValueError(f"cannot read JavaScript at offset {pos}: {source[pos : pos + 30]!r}")
        pos = match.end()
        kind = match.lastgroup or ""
        if kind not in ("space", "comment"):
            yield kind, match.group()


def _unquote(kind: str, text: str) -> str:
    return text[1:-1] if kind == "string" else text


def js_object_keys(source: str, name: str = "MESSAGES") -> dict[str, Any]:
    """The key tree of ``const <name> = {...}`` (or of ``export default {...}`` when ``name``
    is ``default``); values are dropped, nested objects kept."""
    opening = r"\bexport\s+default\s*\{" if name == "default" else rf"\bconst\s+{name}\s*=\s*\{{"
    start = re.search(opening, source)
    if start is None:
        raise ValueError(f"no `{name}` object literal in the source")
    # Read tokens only up to the table's closing brace (the rest of a module may hold regular
    # expression literals, which this small tokenizer does not read).
    tokens: list[tuple[str, str]] = []
    braces = 0
    for token in _tokens(source[start.end() - 1 :]):
        tokens.append(token)
        braces += {"{": 1, "}": -1}.get(token[1], 0)
        if braces == 0:
            break
    stack: list[dict[str, Any]] = []
    root: dict[str, Any] = {}
    pending: str | None = None  # a key whose value starts with the next token
    depth_other = 0  # brackets and parentheses inside a value
    i = 0
    while i < len(tokens):
        kind, text = tokens[i]
        if text == "{" and depth_other == 0:
            child: dict[str, Any] = {}
            if not stack:
                root = child
            elif pending is not None:
                stack[-1][pending] = child
            stack.append(child)
            pending = None
        elif text == "}" and depth_other == 0:
            stack.pop()
            if not stack:
                return root
        elif text in "([":
            depth_other += 1
        elif text in ")]":
            depth_other -= 1
        elif (
            depth_other == 0
            and kind in ("name", "string")
            and i + 1 < len(tokens)
            and tokens[i + 1][1] == ":"
            and tokens[i - 1][1] in ("{", ",")
        ):
            pending = _unquote(kind, text)
            stack[-1][pending] = None
            i += 1
        i += 1
    raise ValueError(f"`const {name}` is not closed")


def test_the_extractor_reads_nested_tables_strings_and_concatenations() -> None:
    source = """
    const MESSAGES = {
      en: { a: "x, y: z", "b-c": 'q' + "r", nested: { d: `t{e}`, f: fn(1, { g: 2 }) } },
      zh: { a: "甲" },
    };"""
    keys = js_object_keys(source)
    assert flat_keys(keys["en"]) == {"a", "b-c", "nested.d", "nested.f"}
    assert flat_keys(keys["zh"]) == {"a"}
    problems = parity_problems("x.js", keys)
    assert "x.js: key 'nested.d' is in 'en' but not in 'zh'" in problems


JS_FILES = sorted(p for p in JS_DIR.glob("*.js") if "const MESSAGES" in p.read_text("utf-8"))


def test_the_site_modules_with_messages_are_found() -> None:
    assert "track.js" in {p.name for p in JS_FILES}


MESSAGE_DIR = JS_DIR / "messages"
# The staff console's tables (messages/zh/staff-*.js) are keyed by their English texts: below.
MESSAGE_MODULES = sorted(
    {
        p.name
        for lang in LANGUAGES
        for p in (MESSAGE_DIR / lang).glob("*.js")
        if not p.name.startswith("staff-")
    }
)


def test_the_message_modules_are_found() -> None:
    assert "feedback-form.js" in MESSAGE_MODULES


@pytest.mark.parametrize("name", MESSAGE_MODULES)
def test_every_message_module_exists_in_both_languages_with_the_same_keys(name: str) -> None:
    tables = {}
    for lang in LANGUAGES:
        path = MESSAGE_DIR / lang / name
        if path.is_file():
            tables[lang] = js_object_keys(path.read_text("utf-8"), "default")
    assert parity_problems(f"site/docs/assets/js/messages/{{en,zh}}/{name}", tables) == []


@pytest.mark.parametrize("path", JS_FILES, ids=lambda p: p.name)
def test_every_site_message_exists_in_both_languages(path: Path) -> None:
    tables = js_object_keys(path.read_text("utf-8"))
    assert parity_problems(f"site/docs/assets/js/{path.name}", tables) == []


def test_every_api_message_exists_in_both_languages() -> None:
    assert parity_problems("api/chalicelib/i18n/catalogue.py", MESSAGES) == []


def test_every_api_message_template_has_the_same_slots_in_both_languages() -> None:
    slot = re.compile(r"\{(\w+)\}")
    for key, en in MESSAGES["en"].items():
        zh = MESSAGES["zh"].get(key, "")
        assert set(slot.findall(zh)) <= set(slot.findall(en)), f"catalogue.py: {key!r}"


def test_every_error_code_has_a_general_message() -> None:
    import importlib
    import pkgutil

    import chalicelib
    from chalicelib import errors

    # Error classes live beside the code that raises them (services, domain): import every
    # module so each subclass is known, then walk the class tree.
    for module in pkgutil.walk_packages(chalicelib.__path__, "chalicelib."):
        importlib.import_module(module.name)
    codes: set[str] = set()
    pending = [errors.ClearloopError]
    while pending:
        cls = pending.pop()
        codes.add(cls.code)
        pending.extend(cls.__subclasses__())
    # Never leave the API (the use cases turn them into other errors).
    internal = {"error", "number_taken", "idempotency_exists", "rate_charge_refused"}
    missing = sorted(c for c in codes - internal if f"error.{c}" not in MESSAGES["en"])
    assert missing == [], f"catalogue.py: no error.<code> message for {missing}"


def notification_tables() -> dict[str, dict[str, Mapping[str, Any]]]:
    """Every module-level table of notify/messages.py keyed by language."""
    tables = {}
    for name, value in vars(notify_messages).items():
        if isinstance(value, dict) and set(value) & set(LANGUAGES) and name.startswith("_"):
            tables[name] = value
    return tables


def test_the_notification_tables_are_found() -> None:
    assert {"_TARGETS", "_ALERTS", "_SLA_SUBJECT", "_SLA_BODY"} <= set(notification_tables())


@pytest.mark.parametrize("name", sorted(notification_tables()))
def test_every_notification_text_exists_in_both_languages(name: str) -> None:
    table = notification_tables()[name]
    wrapped = {lang: (v if isinstance(v, Mapping) else {"text": v}) for lang, v in table.items()}
    assert parity_problems(f"api/chalicelib/notify/messages.py {name}", wrapped) == []


def test_every_open_data_column_has_a_title_in_every_language() -> None:
    columns = {*CSV_COLUMNS, *BOARD_COLUMNS, "day", "received", "resolved", "open_backlog_at_end"}
    for lang, titles in COLUMN_TITLES.items():
        missing = sorted(columns - set(titles))
        assert missing == [], f"api/chalicelib/publish/columns.py: {lang} lacks {missing}"
        extra = sorted(set(titles) - columns)
        assert extra == [], f"api/chalicelib/publish/columns.py: {lang} has unknown {extra}"


def test_every_category_has_both_names() -> None:
    data = json.loads((ROOT / "api/chalicelib/data/categories.json").read_text("utf-8"))
    problems = []
    for top in data["categories"]:
        for c in (top, *top.get("children", [])):
            for lang in LANGUAGES:
                if not c["name"].get(lang):
                    problems.append(f"data/categories.json: {c['code']} has no {lang} name")
    assert problems == []


def test_every_published_page_text_exists_in_both_languages() -> None:
    from chalicelib.publish.messages import MESSAGES as PUBLISH_MESSAGES

    assert parity_problems("api/chalicelib/publish/messages.py", PUBLISH_MESSAGES) == []


def test_every_published_page_text_has_the_same_slots_in_both_languages() -> None:
    from chalicelib.publish.messages import MESSAGES as PUBLISH_MESSAGES

    slot = re.compile(r"\{(\w+)\}")
    for key, en in PUBLISH_MESSAGES["en"].items():
        zh = PUBLISH_MESSAGES["zh"].get(key, "")
        assert set(slot.findall(zh)) == set(slot.findall(en)), f"publish/messages.py: {key!r}"


def test_every_published_page_text_key_the_templates_use_exists() -> None:
    from chalicelib.publish.messages import MESSAGES as PUBLISH_MESSAGES

    templates = ROOT / "api/chalicelib/publish/templates"
    used = set()
    for path in templates.glob("*.html"):
        used |= set(re.findall(r"""\bt\(\s*"([\w.]+)"\s*[,)]""", path.read_text("utf-8")))
    assert "tr.glance" in used
    missing = sorted(used - set(PUBLISH_MESSAGES["en"]))
    assert missing == [], f"publish/templates use keys missing from messages.py: {missing}"


# -- the staff console: English texts in the code through tr(), Chinese tables keyed by them ---

_STRING = re.compile(r'"(?:\\.|[^"\\])*"')
STAFF_MODULES = sorted(p.stem for p in JS_DIR.glob("staff-*.js"))


def _first_argument_strings(source: str, pos: int) -> list[str]:
    """The double-quoted literals of a call's first argument (``"a"``, ``c ? "a" : "b"``)."""
    found, depth = [], 0
    while pos < len(source):
        char = source[pos]
        if char == '"':
            literal = _STRING.match(source, pos)
            assert literal is not None
            compared = source[:pos].rstrip().endswith(("==", "!="))  # kind === "x" ? ... : ...
            if depth == 0 and not compared:
                found.append(json.loads(literal.group()))
            pos = literal.end()
            continue
        if char in "([{":
            depth += 1
        elif char in ")]}":
            if depth == 0:
                break
            depth -= 1
        elif char == "," and depth == 0:
            break
        pos += 1
    return found


def _words(code: str) -> str:
    """What staff-core.js ``words()`` makes of a code: ``in_person`` -> ``In person``."""
    return code[0].upper() + code[1:].replace("_", " ")


def _ticket_words(source: str) -> set[str]:
    """The codes staff-ticket.js shows through ``tr(words(...))``: channels, the fields a triage
    changes, and the timeline kinds without an entry in its ``KINDS``."""
    from chalicelib.domain.tickets import CHANNELS
    from chalicelib.services.ticket_work import TRIAGE_FIELDS

    kinds = {"note"}  # written as ``"reply" if public else "note"``
    for path in (ROOT / "api/chalicelib/services").glob("*.py"):
        code = path.read_text("utf-8")
        kinds |= set(re.findall(r'\.event\(\s*"(\w+)"', code))
        kinds |= set(re.findall(r'kind="(\w+)"', code))
    named = set(
        re.findall(r"(\w+): \"", source.split("const KINDS = ")[1].split("\n", maxsplit=1)[0])
    )
    texts = {_words(c) for c in CHANNELS} | {_words(f) for f in TRIAGE_FIELDS}
    return texts | {_words(k) for k in kinds - named}


def staff_texts(module: str) -> set[str]:
    """The English texts a staff module shows: every ``tr("...")`` literal (both branches of a
    ``tr(cond ? "a" : "b")``), the queue titles, and for staff-core the names of statuses, types
    and roles that ``name()`` and the sign-in bar pass through ``tr``."""
    source = (JS_DIR / f"{module}.js").read_text("utf-8")
    texts: set[str] = set()
    for call in re.finditer(r"\btr\(", source):
        texts.update(_first_argument_strings(source, call.end()))
    for literal in re.findall(r"""\[\s*"([^"]+)",\s*"[a-z_]+=""", source):  # QUEUES titles
        texts.add(literal)
    # Single-line tables shown through tr(TABLE[...]) (STATES, KINDS of staff-ticket.js).
    for table, body in re.findall(r"^const ([A-Z]+) = (\{[^\n]*\});$", source, re.MULTILINE):
        if f"tr({table}[" in source:
            texts.update(re.findall(r'"([^"]+)"', body))
    if module == "staff-ticket":
        texts |= _ticket_words(source)
    if module == "staff-core":
        from chalicelib.domain.staff import ROLES
        from chalicelib.domain.tickets import STATUSES, TYPES

        names_line = source.split("const NAMES = ")[1].split("\n")[0]
        special = dict(re.findall(r'(\w+): "([^"]+)"', names_line))
        for code in (*STATUSES, *TYPES):
            texts.add(special.get(code) or code[0].upper() + code[1:].replace("_", " "))
        texts.update(ROLES)
    return texts


def test_the_staff_text_extractor_reads_calls_branches_and_names() -> None:
    texts = staff_texts("staff-core")
    assert "Enter your staff token." in texts
    assert "{h} h {m} min" in texts  # a branch of tr(cond ? "a" : "b", ...)
    assert "{h} h" in texts
    assert "Awaiting information" in texts  # a status name
    assert "In progress" in texts
    assert "supervisor" in texts
    assert "New tickets" in staff_texts("staff-queue")


@pytest.mark.parametrize("module", STAFF_MODULES)
def test_every_staff_text_has_its_chinese_and_every_chinese_text_its_english(module: str) -> None:
    table = MESSAGE_DIR / "zh" / f"{module}.js"
    texts = staff_texts(module)
    if not table.is_file():
        assert texts == set(), f"{module}.js passes texts through tr() but has no Chinese table"
        return
    chinese = set(js_object_keys(table.read_text("utf-8"), "default"))
    where = f"site/docs/assets/js/messages/zh/{module}.js"
    problems = [f"{where}: no Chinese for {t!r}" for t in sorted(texts - chinese)]
    problems += [f"{where}: {t!r} is not a text of {module}.js" for t in sorted(chinese - texts)]
    assert problems == []
