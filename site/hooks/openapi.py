"""MkDocs hook: the API reference is built from ``api/openapi.json``, the one source of truth.

- ``on_files`` adds the document itself to the site as ``reference/openapi.json``, so clients
  and tools can download exactly what the tests fuzz against.
- ``on_page_markdown`` replaces ``<!-- openapi-reference -->`` on ``reference/api.md`` with
  Markdown for every operation (grouped by tag: method and path, what it does, parameters,
  request body, responses with their headers) and every schema.

The output is plain Markdown (tables without alignment, headings with ids through
``attr_list``), rendered to static HTML by MkDocs: no JavaScript, no third-party viewer, no
inline ``style``, so the page is clean under the site's Content-Security-Policy. A missing
marker, a reference that does not resolve or a document without paths fails the build.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority

OPENAPI = Path(__file__).resolve().parents[2] / "api" / "openapi.json"
PAGE = "reference/api.md"
PUBLISHED_AS = "reference/openapi.json"
MARKER = "<!-- openapi-reference -->"
METHODS = ("get", "post", "put", "patch", "delete")
_CODE = re.compile(r"(`[^`]*`)")


class OpenApiPageError(Exception):
    """The document or the page cannot be rendered; the message says what to fix."""


def load(path: Path = OPENAPI) -> dict[str, Any]:
    document = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(document, dict) or not document.get("paths"):
        raise OpenApiPageError(f"{path}: an OpenAPI document with paths is required")
    return document


# -- MkDocs events --------------------------------------------------------------------------


# After the i18n plugin (priority -100) has sorted the pages by language: the document is one
# file for both languages, at /reference/openapi.json.
@event_priority(-110)
def on_files(files: Any, config: Any) -> Any:
    from mkdocs.structure.files import File

    files.append(File.generated(config, PUBLISHED_AS, content=OPENAPI.read_bytes()))
    return files


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    if page.file.src_uri != PAGE:
        return markdown
    if MARKER not in markdown:
        raise OpenApiPageError(f"{PAGE} must contain {MARKER} where the reference goes")
    return markdown.replace(MARKER, render(load()))


# -- rendering ------------------------------------------------------------------------------


def text(value: str) -> str:
    """Markdown for prose from the document: HTML escaped outside `code spans`."""
    return "".join(
        part if part.startswith("`") else html.escape(part, quote=False)
        for part in _CODE.split(value)
    )


def cell(value: str) -> str:
    """``text`` for a table cell: one line, pipes escaped."""
    return text(" ".join(value.split())).replace("|", "\\|")


def anchor(kind: str, name: str) -> str:
    return f"{kind}-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


class Renderer:
    def __init__(self, document: Mapping[str, Any]) -> None:
        self.doc = document

    def resolve(self, node: Mapping[str, Any]) -> Mapping[str, Any]:
        seen = set()
        while "$ref" in node:
            ref = str(node["$ref"])
            if ref in seen or not ref.startswith("#/"):
                raise OpenApiPageError(f"cannot resolve {ref}")
            seen.add(ref)
            target: Any = self.doc
            for part in ref[2:].split("/"):
                if not isinstance(target, Mapping) or part not in target:
                    raise OpenApiPageError(f"{ref} does not resolve")
                target = target[part]
            node = target
        return node

    def type_of(self, schema: Mapping[str, Any]) -> str:
        """A short Markdown type: ``string``, ``integer or null``, a link to a schema..."""
        if "$ref" in schema:
            name = str(schema["$ref"]).rsplit("/", 1)[-1]
            self.resolve(schema)
            return f"[{name}](#{anchor('schema', name)})"
        for key in ("oneOf", "anyOf"):
            if key in schema:
                return " or ".join(dict.fromkeys(self.type_of(s) for s in schema[key]))
        if "allOf" in schema:
            return " and ".join(self.type_of(s) for s in schema["allOf"])
        kind = schema.get("type", "any")
        kinds = kind if isinstance(kind, list) else [kind]
        names = []
        for k in kinds:
            if k == "array":
                names.append(f"array of {self.type_of(schema.get('items', {}))}")
            else:
                names.append(str(k))
        return " or ".join(names)

    def constraints(self, schema: Mapping[str, Any]) -> str:
        notes = []
        if "enum" in schema:
            values = ", ".join(f"`{v}`" for v in schema["enum"] if v is not None)
            notes.append(f"one of {values}")
        for key, label in (
            ("minLength", "at least {} character(s)"),
            ("maxLength", "at most {} characters"),
            ("minimum", "at least {}"),
            ("maximum", "at most {}"),
            ("pattern", "matches `{}`"),
            ("format", "format `{}`"),
            ("default", "default `{}`"),
        ):
            if key in schema:
                value = json.dumps(schema[key]) if key == "default" else schema[key]
                notes.append(label.format(value))
        return f"({'; '.join(notes)})" if notes else ""

    def properties(self, schema: Mapping[str, Any]) -> tuple[dict[str, Any], set[str]]:
        """The fields of an object schema, following ``$ref`` and ``allOf``."""
        schema = self.resolve(schema)
        props: dict[str, Any] = dict(schema.get("properties", {}))
        required = set(schema.get("required", []))
        for part in schema.get("allOf", []):
            more, needed = self.properties(part)
            props.update(more)
            required |= needed
        return props, required

    def fields_table(self, schema: Mapping[str, Any]) -> list[str]:
        props, required = self.properties(schema)
        if not props:
            return []
        lines = ["| field | type | required | description |", "| --- | --- | --- | --- |"]
        for name, prop in props.items():
            about = " ".join(
                x for x in (cell(prop.get("description", "")), cell(self.constraints(prop))) if x
            )
            lines.append(
                f"| `{name}` | {self.type_of(prop)} | {'yes' if name in required else 'no'} "
                f"| {about} |"
            )
        return lines

    def parameters(self, operation: Mapping[str, Any]) -> list[str]:
        params = [self.resolve(p) for p in operation.get("parameters", [])]
        if operation.get("security"):
            params.insert(
                0,
                {
                    "name": "Authorization",
                    "in": "header",
                    "required": True,
                    "description": "`Bearer <staff token>`",
                    "schema": {"type": "string"},
                },
            )
        if not params:
            return []
        lines = [
            "**Parameters**",
            "",
            "| name | in | required | type | description |",
            "| --- | --- | --- | --- | --- |",
        ]
        for p in params:
            schema = p.get("schema", {})
            about = " ".join(
                x for x in (cell(p.get("description", "")), cell(self.constraints(schema))) if x
            )
            lines.append(
                f"| `{p['name']}` | {p['in']} | {'yes' if p.get('required') else 'no'} "
                f"| {self.type_of(schema)} | {about} |"
            )
        return [*lines, ""]

    def body(self, operation: Mapping[str, Any]) -> list[str]:
        request = operation.get("requestBody")
        if request is None:
            return []
        lines = []
        for media, content in self.resolve(request).get("content", {}).items():
            lines += [f"**Request body** (`{media}`): {self.type_of(content['schema'])}", ""]
        return lines

    def responses(self, operation: Mapping[str, Any]) -> list[str]:
        lines = [
            "**Responses**",
            "",
            "| status | meaning | body | headers |",
            "| --- | --- | --- | --- |",
        ]
        for status, raw in operation.get("responses", {}).items():
            response = self.resolve(raw)
            bodies = [
                f"`{media}` {self.type_of(c.get('schema', {}))}"
                for media, c in response.get("content", {}).items()
            ]
            headers = [
                f"`{name}`" for name in response.get("headers", {}) if name not in SECURITY_HEADERS
            ]
            lines.append(
                f"| {status} | {cell(response.get('description', ''))} "
                f"| {', '.join(bodies) or 'none'} | {', '.join(headers) or ''} |"
            )
        return [*lines, ""]

    def operations(self) -> Iterator[tuple[str, str, str, Mapping[str, Any]]]:
        for path, item in self.doc["paths"].items():
            for method in METHODS:
                if method in item:
                    operation = item[method]
                    tag = (operation.get("tags") or ["Other"])[0]
                    yield tag, method.upper(), path, operation

    def render(self) -> str:
        out: list[str] = []
        tags = [t["name"] for t in self.doc.get("tags", [])]
        ops = list(self.operations())
        tags += sorted({tag for tag, *_ in ops} - set(tags))
        out += ["## Operations", ""]
        out += ["| method | path | what |", "| --- | --- | --- |"]
        for _, method, path, op in ops:
            link = anchor("op", op.get("operationId", f"{method} {path}"))
            out.append(f"| {method} | [`{path}`](#{link}) | {cell(op.get('summary', ''))} |")
        out.append("")
        for tag in tags:
            about = next(
                (t.get("description", "") for t in self.doc.get("tags", []) if t["name"] == tag),
                "",
            )
            out += [f"## {text(tag)}", "", text(about), ""]
            for op_tag, method, path, op in ops:
                if op_tag != tag:
                    continue
                link = anchor("op", op.get("operationId", f"{method} {path}"))
                out += [f"### `{method} {path}` {{#{link}}}", ""]
                out += [f"**{text(op.get('summary', ''))}.** {text(op.get('description', ''))}", ""]
                if op.get("security"):
                    out += ["Needs a staff bearer token.", ""]
                out += self.parameters(op)
                out += self.body(op)
                out += self.responses(op)
        out += [
            "## Schemas",
            "",
            "Every response also carries the security headers: "
            + ", ".join(f"`{h}`" for h in SECURITY_HEADERS)
            + ".",
            "",
        ]
        for name, schema in self.doc.get("components", {}).get("schemas", {}).items():
            out += [f"### {name} {{#{anchor('schema', name)}}}", ""]
            if schema.get("description"):
                out += [text(schema["description"]), ""]
            table = self.fields_table(schema)
            if table:
                out += [*table, ""]
            else:
                out += [f"Type: {self.type_of(schema)}.", ""]
            if "example" in schema:
                example = json.dumps(schema["example"], indent=2, ensure_ascii=False)
                out += ["Example:", "", "```json", example, "```", ""]
        return "\n".join(out)


SECURITY_HEADERS = (
    "Strict-Transport-Security",
    "X-Content-Type-Options",
    "Content-Security-Policy",
    "X-Frame-Options",
    "Referrer-Policy",
)


def render(document: Mapping[str, Any]) -> str:
    """The Markdown that replaces the marker."""
    return Renderer(document).render()
