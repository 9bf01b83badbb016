"""The configuration reference, docs/configuration.md, written from the schema so that it cannot drift.

    python tools/config_reference.py            write docs/configuration.md
    python tools/config_reference.py --check    exit 1, saying so, when docs/configuration.md differs from that

Every key of schemas/config.schema.yaml is one row: nested keys as dotted paths (`corpus.local.train.src`), any
key of a map as `<name>` or `<key>` (`architectures.<name>.num-words`), each item of a list as `[]`
(`tables.table1.columns[].architecture`); with its type, the values it allows, its default (the schema's
`default`, else config.yaml's value) and the schema's description. The schema's constructs are read as follows:

- `properties`: one row per key, `required` marks the required ones;
- `additionalProperties` / `patternProperties` holding a schema: a map, one row for its entries (`<name>` when
  `propertyNames` refers to a definition, else `<key>`; a pattern's row names the pattern); `false`: closed;
- `propertyNames`: the allowed key names of a map, in its row;
- `items`: a list; a list of objects gets rows for its items' keys (`key[].sub`);
- `$ref` (local, `#/$defs/...` or `#/definitions/...`): the definition, its siblings taking precedence;
- `allOf`: the sub-schemas merged (a keyword given twice with different values is an error);
- `oneOf` / `anyOf`: alternatives; scalar ones in one row ("integer or `oracle`"), object ones as numbered forms
  whose keys get rows of their own;
- `if` / `then` / `else` with an `if` of the form "key is const": the branches' keys get rows labelled with
  the condition; a branch's bare `const` on a key already documented restates the condition and adds no row;
- scalar assertions (`type`, `enum`, `const`, `minimum`, `maximum`, `exclusiveMinimum`, `exclusiveMaximum`,
  `minLength`, `maxLength`, `pattern`, `minItems`, `maxItems`, `uniqueItems`, `minProperties`, `maxProperties`):
  the Type and Allowed columns.

Any other keyword is an error (SchemaError, naming the schema path): nothing is skipped silently.
"""

from __future__ import annotations

import argparse
import difflib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parent.parent
SCHEMA = REPO / "schemas" / "config.schema.yaml"
CONFIG = REPO / "config.yaml"
OUTPUT = REPO / "docs" / "configuration.md"
sys.path.insert(0, str(REPO / "scripts"))  # the library: slkd
from slkd import backends  # noqa: E402

EXAMPLE_BACKEND = list(backends.BACKENDS)[-1]  # a backend other than the default, for the reference's example

ANNOTATIONS = {"description", "title", "default", "$comment", "$schema"}
SCALAR = {"type", "enum", "const", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength",
          "maxLength", "pattern", "minItems", "maxItems", "uniqueItems", "minProperties", "maxProperties"}
STRUCTURE = {"properties", "required", "additionalProperties", "patternProperties", "propertyNames", "items",
             "$ref", "allOf", "oneOf", "anyOf", "if", "then", "else"}
ROOT_ONLY = {"$defs", "definitions"}
MISSING = object()


class SchemaError(Exception):
    """The schema holds a construct that this tool does not understand."""


@dataclass
class Row:
    """One key of the reference."""

    path: str
    type: str
    allowed: str
    default: str
    description: str
    required: bool = False
    labels: list[str] = field(default_factory=list)


def compact(value: Any) -> str:
    """A YAML value on one line (flow style), as it would be written in config.yaml."""
    return yaml.safe_dump([value], default_flow_style=True, width=10**9, allow_unicode=True,
                          sort_keys=False).strip()[1:-1]


def code(text: str) -> str:
    """Text as a Markdown code span that also survives a table cell."""
    text = str(text).replace("|", "\\|")
    ticks = "``" if "`" in text else "`"
    pad = " " if ticks == "``" else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def prose(text: str) -> str:
    """A description as one table cell: whitespace folded, pipes escaped, `<...>` outside code spans escaped."""
    parts = re.split(r"(`[^`]*`)", " ".join(str(text).split()))
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            out.append(part)
        else:
            out.append(part.replace("<", "&lt;").replace(">", "&gt;"))
    return "".join(out).replace("|", "\\|")


class Reference:
    """Reads the schema (and config.yaml's values) into rows."""

    def __init__(self, schema: dict[str, Any], config: dict[str, Any]) -> None:
        self.schema = schema
        self.config = config
        self.rows: list[Row] = []

    # ----------------------------------------------------------------------------------------------- schemas
    def resolve(self, node: Any, where: str) -> dict[str, Any]:
        """node with its $ref replaced by the definition (siblings win) and allOf merged; checks its keywords."""
        if not isinstance(node, dict):
            raise SchemaError(f"{where}: expected a schema (a mapping), found {node!r}")
        node = dict(node)
        if "$ref" in node:
            ref = node.pop("$ref")
            match = re.fullmatch(r"#/(\$defs|definitions)/([^/]+)", str(ref))
            if not match or match.group(2) not in self.schema.get(match.group(1), {}):
                raise SchemaError(f"{where}: unsupported or unknown $ref {ref!r} (only #/$defs/X, #/definitions/X)")
            target = self.resolve(self.schema[match.group(1)][match.group(2)], f"{ref}")
            node = {**target, **node, "x-ref": match.group(2)}
        if "allOf" in node:
            merged = {k: v for k, v in node.items() if k != "allOf"}
            for i, sub in enumerate(node["allOf"]):
                sub = self.resolve(sub, f"{where}/allOf/{i}")
                for key, value in sub.items():
                    if key == "required":
                        merged["required"] = list(dict.fromkeys([*merged.get("required", []), *value]))
                    elif key == "properties":
                        merged["properties"] = {**merged.get("properties", {}), **value}
                    elif key in ("description", "x-ref") and key in merged:
                        continue
                    elif key in merged and merged[key] != value:
                        raise SchemaError(f"{where}/allOf/{i}: {key} conflicts with another sub-schema's")
                    else:
                        merged[key] = value
            node = merged
        unknown = set(node) - ANNOTATIONS - SCALAR - STRUCTURE - {"x-ref"}
        if unknown:
            raise SchemaError(f"{where}: unsupported schema keyword(s) {sorted(unknown)}")
        return node

    def type_of(self, node: dict[str, Any]) -> str:
        """The Type column."""
        if "type" in node:
            types = node["type"] if isinstance(node["type"], list) else [node["type"]]
        elif "enum" in node or "const" in node:
            values = node["enum"] if "enum" in node else [node["const"]]
            names = {bool: "boolean", int: "integer", float: "number", str: "string", type(None): "null"}
            types = list(dict.fromkeys(names.get(type(v), type(v).__name__) for v in values))
        elif self.is_map(node):
            types = ["map"]
        elif "oneOf" in node or "anyOf" in node:
            alternatives = [self.resolve(a, "oneOf") for a in node.get("oneOf", node.get("anyOf", []))]
            if self.object_forms(alternatives, "oneOf"):
                types = ["object"]
            else:
                types = list(dict.fromkeys(self.type_of(a) for a in alternatives))
        elif "properties" in node or "if" in node:
            types = ["object"]
        elif "items" in node:
            types = ["array"]
        else:
            types = ["any"]
        if types == ["object"] and self.is_map(node):
            types = ["map"]
        if types == ["array"] and "items" in node:
            item = self.resolve(node["items"], "items")
            return f"list of {self.type_of(item)}"
        return " or ".join(types)

    @staticmethod
    def is_map(node: dict[str, Any]) -> bool:
        """An object whose keys are free (additionalProperties or patternProperties holds a schema)."""
        extra = node.get("additionalProperties")
        return isinstance(extra, dict) or bool(node.get("patternProperties"))

    def allowed_of(self, node: dict[str, Any], where: str) -> str:
        """The Allowed column: enum, const, pattern, bounds, sizes, key names."""
        out: list[str] = []
        if "enum" in node:
            out.append(", ".join(code(compact(v)) for v in node["enum"]))
        if "const" in node:
            out.append(code(compact(node["const"])))
        bounds = [("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"), ("exclusiveMaximum", "<")]
        for key, sign in bounds:
            if key in node:
                out.append(f"{sign} {node[key]}")
        if node.get("minLength") == 1 and "maxLength" not in node:
            out.append("non-empty")
        else:
            if "minLength" in node:
                out.append(f"at least {node['minLength']} characters")
            if "maxLength" in node:
                out.append(f"at most {node['maxLength']} characters")
        if "pattern" in node:
            out.append(f"matches {code(node['pattern'])}")
        if "minItems" in node:
            out.append(f"at least {node['minItems']} item{'s' if node['minItems'] != 1 else ''}")
        if "maxItems" in node:
            out.append(f"at most {node['maxItems']} items")
        if node.get("uniqueItems"):
            out.append("no duplicates")
        if "minProperties" in node:
            out.append(f"at least {node['minProperties']} entr{'ies' if node['minProperties'] != 1 else 'y'}")
        if "maxProperties" in node:
            out.append(f"at most {node['maxProperties']} entries")
        extra = [k for k in node.get("required", []) if k not in node.get("properties", {})]
        if extra and self.is_map(node):
            out.append("must have " + ", ".join(code(k) for k in extra))
        elif extra:
            raise SchemaError(f"{where}: required keys {extra} are neither properties nor map entries")
        if "items" in node:
            item = self.resolve(node["items"], f"{where}/items")
            inner = self.allowed_of(item, f"{where}/items")
            if inner:
                out.append(f"items: {inner}")
        for word in ("oneOf", "anyOf"):
            if word in node and not self.object_forms(node[word], where):
                alternatives = []
                for i, sub in enumerate(node[word]):
                    sub = self.resolve(sub, f"{where}/{word}/{i}")
                    alternatives.append(" ".join(filter(None, [self.type_of(sub), self.allowed_of(sub, where)])))
                out.append(" or ".join(alternatives))
        return "; ".join(out)

    def has_keys(self, node: dict[str, Any]) -> bool:
        """Whether rows of their own document node's contents (keys, map entries, object forms)."""
        return bool({"properties", "patternProperties", "if"} & set(node)) or self.is_map(node) or any(
            self.object_forms(node[w], "") for w in ("oneOf", "anyOf") if w in node)

    def object_forms(self, alternatives: list[Any], where: str) -> bool:
        """Whether oneOf/anyOf alternatives are objects with keys (else: scalar alternatives in one row)."""
        kinds = [self.has_keys(self.resolve(a, where)) for a in alternatives]
        if any(kinds) and not all(kinds):
            raise SchemaError(f"{where}: oneOf/anyOf mixing objects with keys and scalars is not supported")
        return all(kinds)

    # ------------------------------------------------------------------------------------------------- rows
    def default_at(self, value: Any, node: dict[str, Any]) -> str:
        """The Default column: the schema's default, else config.yaml's value (maps: their keys when long)."""
        if "default" in node:
            return code(compact(node["default"]))
        if value is MISSING:
            return ""
        if isinstance(value, dict) and "properties" in node and not self.is_map(node):
            return ""  # its keys have rows of their own
        text = compact(value)
        if isinstance(value, dict) and len(text) > 100:
            return f"{len(value)} entries: " + ", ".join(code(k) for k in value)
        return code(text)

    def key_rule(self, node: dict[str, Any], where: str) -> str:
        """A map's propertyNames, for the row of its entries: 'key matches PATTERN'."""
        if "propertyNames" not in node:
            return ""
        names = self.resolve(node["propertyNames"], f"{where}/propertyNames")
        if set(names) - {"pattern", "x-ref", "type", "description"}:
            raise SchemaError(f"{where}/propertyNames: only a pattern (or a $ref to one) is read")
        return f"key matches {code(names['pattern'])}"

    def add(self, path: str, node: Any, where: str, value: Any, required: bool, labels: list[str],
            rule: str = "") -> None:
        """Rows for node at path (and for everything under it); rule: the constraint on its own key's name."""
        node = self.resolve(node, where)
        allowed = "; ".join(filter(None, [rule, self.allowed_of(node, where)]))
        self.rows.append(Row(path, self.type_of(node), allowed, self.default_at(value, node),
                             str(node.get("description", "")).strip(), required, labels))
        self.children(path, node, where, value, labels)

    def children(self, path: str, node: dict[str, Any], where: str, value: Any, labels: list[str]) -> None:
        """Rows for node's keys, map entries, list items, forms and conditional branches."""
        prefix = f"{path}." if path else ""
        required = set(node.get("required", []))
        for key, sub in node.get("properties", {}).items():
            sub_value = value.get(key, MISSING) if isinstance(value, dict) else MISSING
            self.add(f"{prefix}{key}", sub, f"{where}/properties/{key}", sub_value, key in required, labels)
        extra = node.get("additionalProperties")
        if extra is not None and not isinstance(extra, bool | dict):
            raise SchemaError(f"{where}/additionalProperties: expected true, false or a schema")
        if isinstance(extra, dict):
            names = node.get("propertyNames", {})
            placeholder = "<name>" if isinstance(names, dict) and "$ref" in names else "<key>"
            self.add(f"{prefix}{placeholder}", extra, f"{where}/additionalProperties", MISSING, False, labels,
                     self.key_rule(node, where))
        elif "propertyNames" in node:
            raise SchemaError(f"{where}: propertyNames without a schema for the entries (additionalProperties)")
        for pattern, sub in node.get("patternProperties", {}).items():
            self.add(f"{prefix}<key matching {pattern}>", sub, f"{where}/patternProperties/{pattern}", MISSING, False,
                     labels)
        if "items" in node:
            item = self.resolve(node["items"], f"{where}/items")
            if self.has_keys(item):
                self.children(f"{path}[]", item, f"{where}/items", MISSING, labels)
        for word in ("oneOf", "anyOf"):
            alternatives = node.get(word, [])
            if alternatives and self.object_forms(alternatives, f"{where}/{word}"):
                for i, sub in enumerate(alternatives, 1):
                    sub = self.resolve(sub, f"{where}/{word}/{i - 1}")
                    self.only(sub, f"{where}/{word}/{i - 1}")
                    self.children(path, sub, f"{where}/{word}/{i - 1}", value, [*labels, f"form {i}"])
        if "if" in node:
            self.branches(path, node, where, value, labels)
        elif "then" in node or "else" in node:
            raise SchemaError(f"{where}: then/else without if")

    @staticmethod
    def only(node: dict[str, Any], where: str) -> None:
        """A form or branch has no row of its own: it may hold keys (and describe them), nothing else."""
        extra = set(node) - {"type", "properties", "required", "additionalProperties", "propertyNames", "description",
                             "x-ref"}
        if extra or node.get("type", "object") != "object":
            raise SchemaError(f"{where}: a form or branch may only define an object's keys, not {sorted(extra)}")

    def branches(self, path: str, node: dict[str, Any], where: str, value: Any, labels: list[str]) -> None:
        """if/then/else where `if` says "key is const": each branch's keys, labelled with the condition."""
        cond = self.resolve(node["if"], f"{where}/if")
        props = cond.get("properties", {})
        if set(cond) - {"required", "properties"} or len(props) != 1:
            raise SchemaError(f"{where}/if: only an `if` of the form {{properties: {{KEY: {{const: V}}}}}} is read")
        (key, test), = props.items()
        test = self.resolve(test, f"{where}/if/properties/{key}")
        if set(test) != {"const"}:
            raise SchemaError(f"{where}/if/properties/{key}: only `const` is supported")
        found: dict[str, tuple[dict[str, Any], dict[str, Any], str]] = {}
        for word, label in (("then", f"{key}: {test['const']}"), ("else", f"{key} not {test['const']}")):
            if word not in node:
                continue
            branch = self.resolve(node[word], f"{where}/{word}")
            self.only(branch, f"{where}/{word}")
            own = dict(branch.get("properties", {}))
            for name, sub in list(own.items()):
                sub = self.resolve(sub, f"{where}/{word}/properties/{name}")
                documented = self.resolve(node.get("properties", {}).get(name, {}), f"{where}/properties/{name}")
                if set(sub) == {"const"} and name in node.get("properties", {}):
                    if "enum" in documented and sub["const"] not in documented["enum"]:
                        raise SchemaError(f"{where}/{word}/properties/{name}: const outside the key's enum")
                    del own[name]  # restates the condition (or its negation) on a key documented above
                elif name in node.get("properties", {}):
                    raise SchemaError(f"{where}/{word}/properties/{name}: redefines a key of the enclosing object")
            found[word] = (branch, own, label)
        # a key that both branches define alike does not depend on the condition: one row, unlabelled
        both = [k for k in found.get("then", ({}, {}, ""))[1] if k in found.get("else", ({}, {}, ""))[1]
                and found["then"][1][k] == found["else"][1][k]]
        if both:
            common = {"properties": {k: found["then"][1][k] for k in both},
                      "required": [k for k in both if all(k in found[w][0].get("required", []) for w in found)]}
            self.children(path, common, f"{where}/then", value, labels)
        for word, (branch, own, label) in found.items():
            sub_node = {**branch, "properties": {k: v for k, v in own.items() if k not in both}}
            self.children(path, sub_node, f"{where}/{word}", value, [*labels, label])

    # ------------------------------------------------------------------------------------------------ output
    def build(self) -> list[Row]:
        """All rows, the schema's top-level keys in its order."""
        root = self.resolve({k: v for k, v in self.schema.items() if k not in ROOT_ONLY}, "#")
        if root.get("type") != "object" or "properties" not in root:
            raise SchemaError("#: the top level must be an object with properties")
        for word in ROOT_ONLY:  # every definition must be understood, used or not
            for name, sub in self.schema.get(word, {}).items():
                self.resolve(sub, f"#/{word}/{name}")
        self.rows = []
        self.children("", root, "#", self.config, [])
        return self.merged(self.rows)

    @staticmethod
    def merged(rows: list[Row]) -> list[Row]:
        """Rows of the same key from different forms or branches: one row when they agree, labels joined."""
        out: list[Row] = []
        for row in rows:
            same = next((r for r in out if (r.path, r.type, r.allowed, r.description) ==
                         (row.path, row.type, row.allowed, row.description)), None)
            if same is None:
                out.append(row)
            elif same.labels != row.labels:
                same.labels = [] if not same.labels or not row.labels else \
                    [" or ".join(dict.fromkeys([" ".join(same.labels), " ".join(row.labels)]))]
                same.required = same.required and row.required
        return out


def forms_note(rows: list[Row]) -> dict[str, str]:
    """For keys whose values take several forms: 'form 1: a, b; form 2: c' (the keys of each form)."""
    notes: dict[str, dict[str, list[str]]] = {}
    for row in rows:
        for label in row.labels:
            if label.startswith("form "):
                parent, _, key = row.path.rpartition(".")
                notes.setdefault(parent, {}).setdefault(label, []).append(key)
    return {parent: "; ".join(f"{label}: " + ", ".join(code(k) for k in keys) for label, keys in forms.items())
            for parent, forms in notes.items()}


def render(schema: dict[str, Any], config: dict[str, Any]) -> str:
    """docs/configuration.md's text."""
    rows = Reference(schema, config).build()
    forms = forms_note(rows)
    sections: dict[str, list[Row]] = {}
    for row in rows:
        sections.setdefault(re.split(r"[.\[]", row.path, maxsplit=1)[0], []).append(row)
    lines = [
        "# Configuration reference",
        "",
        "<!-- Written by tools/config_reference.py (`make config-reference`) from schemas/config.schema.yaml and "
        "config.yaml: do not edit by hand; tests/test_docs.py fails when it differs. -->",
        "",
        prose(schema.get("description", "")),
        "",
        "Every key of the configuration, from [the schema](../schemas/config.schema.yaml) (types, allowed values, "
        "descriptions) and [config.yaml](../config.yaml) (defaults, with its comments). Nested keys are dotted "
        "paths; `<name>` and `<key>` stand for any key of a map (`<name>`: a name that other keys refer to), "
        "`[]` for each item of a list. A row labelled *form N* applies to one form of a value that takes several; "
        f"a label such as *backend: {EXAMPLE_BACKEND}* limits a row to values with that key. An empty Default: the key "
        "is optional and config.yaml leaves it out (the description gives the workflow's default).",
        "",
        f"{len(rows)} keys in {len(sections)} sections: "
        + ", ".join(f"[{name}](#{slug(name)})" for name in sections) + ".",
        "",
    ]
    for name, section in sections.items():
        lines += [f"## {name}", "", "| Key | Type | Allowed | Default | Description |", "|---|---|---|---|---|"]
        for row in section:
            kind = row.type + (", required" if row.required else "")
            text = prose(row.description)
            if row.path in forms:
                text += f" One of: {forms[row.path]}."
            if row.labels:
                text = "*(" + "; ".join(row.labels) + ")* " + text
            lines.append(f"| {code(row.path)} | {kind} | {row.allowed} | {row.default} | {text.strip()} |")
        lines.append("")
    return "\n".join(lines)


def slug(heading: str) -> str:
    """GitHub's anchor of a heading (tests/test_docs.py checks the links)."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def rows(schema_path: Path = SCHEMA, config_path: Path = CONFIG) -> list[Row]:
    """The reference's rows (tests/test_docs.py walks them)."""
    return Reference(load(schema_path), load(config_path)).build()


def load(path: Path) -> dict[str, Any]:
    """A YAML file."""
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def generate(schema_path: Path = SCHEMA, config_path: Path = CONFIG) -> str:
    """The text of docs/configuration.md for these files."""
    return render(load(schema_path), load(config_path))


def main(argv: list[str] | None = None) -> int:
    """Write docs/configuration.md, or with --check say whether it is up to date."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check that the output is up to date")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="default: docs/configuration.md")
    args = parser.parse_args(argv)
    try:
        text = generate()
    except SchemaError as err:
        print(f"config_reference: {err}", file=sys.stderr)
        return 2
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current == text:
            print(f"{args.output} is up to date")
            return 0
        diff = difflib.unified_diff(current.splitlines(), text.splitlines(), str(args.output), "generated", lineterm="")
        print("\n".join(list(diff)[:40]))
        print(f"{args.output} differs from the schema's reference: run `make config-reference`", file=sys.stderr)
        return 1
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output} ({len(rows())} keys)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
