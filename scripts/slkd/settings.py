"""The configuration as files give it: loading and merging, and the schema's refusals named in one line.

Types and unknown keys are checked against `schemas/config.schema.yaml` by `check_schema`, which names one
key and its reason in one line (Snakemake's own `validate` follows, and prints its full report, schema and
configuration included, when $SLKD_CONFIG_DETAILS is set). What a JSON schema cannot check is in slkd.checks.
"""

from __future__ import annotations

import difflib
import os
import re
import string
from pathlib import Path
from typing import Any

WORKFLOW_ENV = "envs/workflow.yaml"


def merge_config(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """Deep merge like Snakemake's update_config: dictionaries key by key, anything else replaced (in place)."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merge_config(base[key], value)
        else:
            base[key] = value
    return base


def load_config(root: str | Path, *overrides: str | Path) -> dict[str, Any]:
    """`root`/config.yaml merged with override files, as Snakemake merges --configfile."""
    import yaml  # here, not at the top: the backends' registry imports this module, and `make` reads the
    # registry with the system's Python, which may have no yaml

    config = yaml.safe_load((Path(root) / "config.yaml").read_text(encoding="utf-8"))
    for path in overrides:
        merge_config(config, yaml.safe_load(Path(path).read_text(encoding="utf-8")))
    return config


class ConfigError(ValueError):
    """A configuration that names something that does not exist; the message names the key."""


CONFIG_DETAILS_VAR = "SLKD_CONFIG_DETAILS"  # set (to anything but empty): Snakemake's full schema report instead


def key_path(path: Any) -> str:
    """The dotted path of a configuration key, list items as `[i]`: `tables.table3.datasets[1]`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f"{'.' if text else ''}{part}"
    return text


def _unknown_keys(error: Any) -> str:
    """`key: unknown key (...)` for an additionalProperties error, with a close known key or the known keys."""
    schema, instance = error.schema, error.instance
    known = list(schema.get("properties", {}))
    patterns = [re.compile(p) for p in schema.get("patternProperties", {})]
    extra = [k for k in instance if k not in known and not any(p.search(k) for p in patterns)]
    if not extra:  # additionalProperties is a schema: one of the extra values is wrong
        return f"{key_path(error.absolute_path) or '(top level)'}: {error.message}"
    keys = ", ".join(key_path([*error.absolute_path, k]) for k in extra)
    close = difflib.get_close_matches(str(extra[0]), known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known keys: {', '.join(sorted(known))}"
    return f"{keys}: unknown key{'s' if len(extra) > 1 else ''} ({hint})"


def schema_error(config: dict[str, Any], schema: dict[str, Any]) -> str | None:
    """One line naming a key and why the schema refuses it (None when config is valid): `corpus.max_len: 'abc'
    is not of type 'integer'`. Of several errors, an unconditional one (not under if/then/else) is preferred
    (a wrong `backend` rather than the flags its `else` branch requires), then jsonschema's best_match."""
    from jsonschema import validators
    from jsonschema.exceptions import best_match

    validator = validators.validator_for(schema)(schema)
    errors = list(validator.iter_errors(config))
    if not errors:
        return None
    unconditional = [e for e in errors if not {"if", "then", "else"} & set(map(str, e.absolute_schema_path))]
    error = best_match(unconditional or errors)
    if error.validator == "additionalProperties" and error.validator_value is False:
        return _unknown_keys(error)
    path = list(error.absolute_path)
    if "propertyNames" in error.absolute_schema_path:  # the key's own name is refused: name the key
        path.append(error.instance)
    return f"{key_path(path) or '(top level)'}: {error.message}"


def check_schema(config: dict[str, Any], schema_path: str | Path) -> None:
    """ConfigError with schema_error's line, and how to see the full report, when config breaks the schema."""
    import yaml

    schema = yaml.safe_load(Path(schema_path).read_text(encoding="utf-8"))
    line = schema_error(config, schema)
    if line:
        raise ConfigError(f"{line}; for the full schema report set {CONFIG_DETAILS_VAR}=1")


# Placeholders of a rule's shell command that may go without Snakemake's `:q` (numbers, never paths)
UNQUOTED_FIELDS = ("threads", "resources.")


def unquoted_fields(template: str) -> list[str]:
    """The placeholders of a Snakemake shell template that lack `:q` (Snakemake's shell quoting; a list's elements
    one by one), but {threads} and {resources.*}: every path may hold spaces and non-ASCII letters."""
    return [field for _, field, spec, _ in string.Formatter().parse(template)
            if field is not None and spec != "q" and not field.startswith(UNQUOTED_FIELDS)]


def same_file(a: str | Path, b: str | Path) -> bool:
    """Whether two paths name one file: the same path once normalised, or (when both exist) the same file reached
    another way (a symbolic or hard link). Relative paths are taken from the working directory."""
    if os.path.normpath(a) == os.path.normpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # either is missing or cannot be reached: the corpus check names it
        return False
