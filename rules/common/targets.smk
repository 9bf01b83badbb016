# The result files that the tables, the claims and the figures read, their specs, and the workflow's targets.

# The table, figure and significance scripts receive result files only: each run file (scripts/evaluate.py)
# and each paired bootstrap result (scripts/significance.py) names its model and the student's coordinates, so
# the scripts key them by what the files say, never by a spelling of the layout or by the order of arguments.
@functools.cache
def table_runs(table):
    """The run files of a table's students."""
    return [fill(P.run, **s.wildcards) for s in design.students(config, [table])]


@functools.cache
def grid_runs(section):
    """The run files of a grid section's students (`search`: Figure 2, `compare`: Figure 3)."""
    return [fill(P.run, **s.wildcards) for s in GRID_STUDENTS[section]]


def table_significance(table):
    """A table's paired bootstrap results (each compared student against the baseline dataset's)."""
    reference = config["evaluation"]["significance"]["baseline"]
    return [fill(P.significance, reference=reference, **s.wildcards) for s in design.compared_students(config, table)]


def table_spec(table):
    """What scripts/tables.py needs of a table beside its files, as JSON: rows (datasets, in order), columns
    (architecture, dropout), the significance level and the metrics shown (evaluation.metric, columns)."""
    spec = config["tables"][table]
    return json.dumps({
        "datasets": spec["datasets"],
        "columns": [{"architecture": c["architecture"], "dropout": design.dropout_label(c["dropout"])}
                    for c in spec["columns"]],
        "alpha": config["evaluation"]["significance"]["alpha"],
        "metric": METRIC,
        "metric_columns": METRIC_COLUMNS,
    })


# The claims (config `claims`): the students (their run files, and the test translations and reference that the
# verdicts' bootstrap scores, as the paired bootstrap does), the paired bootstrap results (against baseline,
# shared with the tables'; combined against kd, the claims' own) and the target-side statistics of baseline and kd.
CLAIM_STUDENTS, CLAIM_COMPARISONS = design.claim_students(config)
CLAIMS = config.get("claims") or {}


def claims_inputs():
    return {
        "runs": [fill(P.run, **s.wildcards) for s in CLAIM_STUDENTS],
        "hyps": [fill(BOOTSTRAP_HYP, **s.wildcards) for s in CLAIM_STUDENTS],
        "ref": BOOTSTRAP_REF,
        "significance": [fill(P.significance, reference=r, **s.wildcards) for s, r in CLAIM_COMPARISONS],
        "stats": [fill(P.stats, corpus=CLAIMS[key]) for key in ("baseline", "kd")],
    }


def claims_spec():
    """What scripts/claims.py needs beside its files, as JSON (config `claims` with its verdicts' settings, the
    level, the target side, the metric and its tokenization)."""
    spec = {key: CLAIMS[key] for key in ("architecture", "baseline", "kd", "combined", "augmented")}
    return json.dumps({**spec, **design.claim_settings(config), "alpha": config["evaluation"]["significance"]["alpha"],
                       "lang": TRG, "metric": METRIC, "tokenize": config["evaluation"]["bleu_tokenize"]})


def table_outputs(table):
    return expand(P.table, table=table, ext=["csv", "md", "tex"])


def figure_outputs(figure):
    return expand(P.figure, figure=figure, ext=["png", "pdf", "csv"])


def reported(paths, name, category):
    """Output paths, the first one shown in `snakemake --report` with the caption report/<name>.rst."""
    return [report(paths[0], caption=f"../report/{name}.rst", category=category), *paths[1:]]


# ---- Targets ---------------------------------------------------------------------------------------------
BPE_TARGETS = expand(
    P.bpe_text, size=design.bpe_sizes(config), corpus="base", split=SPLITS, lang=LANGS
)
STATS_TARGETS = expand(P.stats, corpus=["base"])  # the datasets' statistics come with table2
TABLES = [t for t in ("table1", "table2", "table3") if t == "table2" or t in config["tables"]]
CLAIMS_OUTPUTS = expand(P.table, table="claims", ext=["csv", "md"]) if CLAIMS else []
# The grid's students (A.1): `search` for Figure 2, `compare` for Figure 3 (a model in both is trained once)
GRID_STUDENTS = {section: design.grid_students(config, section) for section in ("search", "compare")}
GRID_RUNS = sorted({fill(P.run, **s.wildcards) for students in GRID_STUDENTS.values() for s in students})
# Figure 1 shows Table 3's students; Figures 2 and 3 the grid's, when the grid has architectures.
FIGURES = [
    figure
    for figure, wanted in (
        ("fig1", "table3" in config["tables"]),
        ("fig2", bool(GRID_STUDENTS["search"])),
        ("fig3", bool(GRID_STUDENTS["compare"])),
    )
    if wanted
]
