"""What the schema cannot check: names that refer to each other (datasets, parts, architectures, tables,
claims), settings that contradict each other, and the flags each backend would misread. Every error names its key.
"""

from __future__ import annotations

from typing import Any

from slkd import backends
from slkd.design import (
    BASE,
    METRICS,
    ORACLE,
    SPLITS,
    backend_of,
    backends_used,
    ensemble_mode,
    ensemble_size,
    metric_columns,
    nbest,
    parse_grid_name,
    parts,
    table_metric,
)
from slkd.settings import ConfigError, same_file
from slkd.training_flags import trainer_flag_sets


def check_config(config: dict[str, Any]) -> None:
    """Raise ConfigError, naming the key, for every reference to an undefined dataset or architecture."""
    architectures = config["architectures"]
    datasets = config["datasets"]
    corpus = config["corpus"]
    if corpus["src"] == corpus["trg"]:
        raise ConfigError(f"corpus.src and corpus.trg are both {corpus['src']!r}")
    if config["teacher"]["architecture"] not in architectures:
        raise ConfigError(
            f"teacher.architecture: unknown architecture {config['teacher']['architecture']!r}"
            f" (defined: {', '.join(architectures)})"
        )
    teacher_backend = backends.get(backend_of(config, config["teacher"]["architecture"]))
    refusal = teacher_backend.REFUSED_ENSEMBLE_MODES.get(ensemble_mode(config))
    if ensemble_size(config) > 1 and refusal:
        usable = [m for m in ("linear", "log_linear") if m not in teacher_backend.REFUSED_ENSEMBLE_MODES]
        raise ConfigError(f"teacher.ensemble_mode: {refusal}, the teacher's backend; use {' or '.join(usable)}")
    if BASE in datasets:
        raise ConfigError("datasets.base: `base` names the real bitext; call the dataset e.g. `baseline`")
    if BASE in config["parts"]:
        raise ConfigError("parts.base: `base` names the real bitext, which no teacher writes")
    for name, items in datasets.items():
        for i, part in enumerate(items):
            if part != BASE and part not in config["parts"]:
                raise ConfigError(f"datasets.{name}[{i}]: unknown part {part!r}"
                                  f" (defined: {', '.join([BASE, *config['parts']])}; config `parts`)")
    for table, spec in config["tables"].items():
        for i, name in enumerate(spec["datasets"]):
            if name not in datasets:
                raise ConfigError(
                    f"tables.{table}.datasets[{i}]: unknown dataset {name!r} (defined: {', '.join(datasets)})"
                )
        for i, column in enumerate(spec["columns"]):
            if column["architecture"] not in architectures:
                raise ConfigError(
                    f"tables.{table}.columns[{i}].architecture: unknown architecture"
                    f" {column['architecture']!r} (defined: {', '.join(architectures)})"
                )
    decoding = config["decoding"]
    if decoding["nbest"] > decoding["beam_size"]:  # Sockeye refuses it only when the teacher distils
        raise ConfigError(f"decoding.nbest: {decoding['nbest']} hypotheses from a beam of {decoding['beam_size']}"
                          " (decoding.beam_size); Sockeye's n-best list holds at most the beam")
    for name, spec in config["parts"].items():
        source = spec.get("filter")
        if source is not None and (source not in config["parts"] or "filter" in config["parts"][source]):
            unfiltered = [p for p, s in config["parts"].items() if "filter" not in s]
            raise ConfigError(f"parts.{name}.filter: {source!r} is not a part that a teacher writes"
                              f" (those: {', '.join(unfiltered) or 'none'}; config `parts`)")
    for part in parts(config).values():
        if part.hypothesis != ORACLE and part.hypothesis > nbest(config, part.teacher):
            raise ConfigError(f"parts.{part.name}.hypothesis: rank {part.hypothesis} of an n-best list of"
                              f" {nbest(config, part.teacher)} (decoding.nbest)")
    baseline = config["evaluation"]["significance"]["baseline"]
    if baseline not in datasets:
        raise ConfigError(f"evaluation.significance.baseline: unknown dataset {baseline!r}"
                          f" (defined: {', '.join(datasets)})")
    check_metrics(config)
    check_claims(config)
    grid = config.get("grid") or {}
    for key, section in (("grid.dataset", grid), ("grid.compare.dataset", grid.get("compare") or {})):
        if section.get("dataset") and section["dataset"] not in datasets:
            raise ConfigError(f"{key}: unknown dataset {section['dataset']!r} (defined: {', '.join(datasets)})")
    for name in list(architectures):
        if parse_grid_name(name) not in (None, architectures[name]):
            raise ConfigError(f"architectures.{name}: a grid-style name must have the flags it spells")
    if corpus["source"] == "local":
        local = corpus.get("local", {})
        for split in SPLITS:
            for side in ("src", "trg"):
                if not local.get(split, {}).get(side):
                    raise ConfigError(f"corpus.local.{split}.{side}: a path is required when corpus.source is local")
            src, trg = local[split]["src"], local[split]["trg"]
            if same_file(src, trg):
                names = src if src == trg else f"{src} and {trg}"
                raise ConfigError(f"corpus.local.{split}.src and corpus.local.{split}.trg name the same file ({names}):"
                                  " a split needs two sides")
    if corpus["source"] == "synthetic" and {corpus["src"], corpus["trg"]} != {"de", "en"}:
        raise ConfigError("corpus.src/corpus.trg: the synthetic corpus is German-like/English-like: de and en")
    if corpus["source"] == "ted" and "en" not in (corpus["src"], corpus["trg"]):
        raise ConfigError("corpus.src/corpus.trg: the TED multitarget corpus pairs English with another language")
    for name in backends_used(config):  # a backend's keys are required where a model uses it
        missing = [key for key in backends.get(name).KEYS.values() if key not in config]
        if missing:
            raise ConfigError(f"{', '.join(missing)}: required when a model uses backend {name}")
    # last: they plan every training, so every name they meet must be known by now
    for name, backend in backends.BACKENDS.items():
        backend.check_flag_sets(config, lambda name=name: trainer_flag_sets(config).get(name, []))


def check_metrics(config: dict[str, Any]) -> None:
    """ConfigError, naming the key, for an unknown metric or one shown twice (evaluation.metric, columns)."""
    metric = table_metric(config)
    if metric not in METRICS:
        raise ConfigError(f"evaluation.metric: unknown metric {metric!r} (known: {', '.join(METRICS)})")
    seen = []
    for i, name in enumerate(metric_columns(config)):
        if name not in METRICS:
            raise ConfigError(f"evaluation.columns[{i}]: unknown metric {name!r} (known: {', '.join(METRICS)})")
        if name == metric:
            raise ConfigError(f"evaluation.columns[{i}]: {name!r} is the tables' metric already (evaluation.metric)")
        if name in seen:
            raise ConfigError(f"evaluation.columns[{i}]: {name!r} is shown twice")
        seen.append(name)


def check_claims(config: dict[str, Any]) -> None:
    """ConfigError, naming the key, for a `claims` entry that names an undefined table, architecture or dataset."""
    claims = config.get("claims")
    if not claims:
        return
    if claims["table"] not in config["tables"]:
        raise ConfigError(f"claims.table: unknown table {claims['table']!r} (defined: {', '.join(config['tables'])})")
    if claims["architecture"] not in config["architectures"]:
        raise ConfigError(f"claims.architecture: unknown architecture {claims['architecture']!r}"
                          f" (defined: {', '.join(config['architectures'])})")
    named = [(key, claims[key]) for key in ("baseline", "kd", "combined")]
    named += [(f"augmented[{i}]", name) for i, name in enumerate(claims["augmented"])]
    for key, name in named:
        if name not in config["datasets"]:
            raise ConfigError(f"claims.{key}: unknown dataset {name!r} (defined: {', '.join(config['datasets'])})")
