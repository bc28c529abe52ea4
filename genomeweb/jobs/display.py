"""A job's parameters and subject in words, for the pages: regions as ``XV:721,850-722,041``
(1-based, as genome browsers show them), objectives as ``gene TDH3``, the codes of variant sets,
designs and jobs as their names. ``job_names`` looks the names up, a few queries per page."""

from collections.abc import Iterable, Mapping

from engine.io.intervals import Interval
from genomeweb.jobs.models import Job, JobKind

LABELS = {
    "model": "Model",
    "region": "Region",
    "objective": "Objective",
    "log": "Objective scale",
    "reverse_complement": "Averaged with the reverse complement",
    "layer": "Layer",
    "head": "Head",
    "allele": "Allele",
    "pair": "Other allele's job",
    "variant_set": "Variant set",
    "tracks": "Tracks",
    "scorers": "Scores",
    "shifts": "Input shifts (bp)",
    "replicates": "Model replicates",
    "genes": "Genes scored too",
    "design": "Design",
    "version": "Design version",
    "job": "Job bundled",
    "report_top": "Offline report",
    "effects_job": "Variant effects job",
    "effect": "Variant",
    "genome": "Genome",
    "part": "Part",
}
ONE_BASED = frozenset({"layer", "head", "part"})  # stored 0-based, numbered from 1 for people
CODES = frozenset({"variant_set", "design", "job", "pair", "effects_job"})
MAX_LISTED = 10  # a Borzoi job may name thousands of tracks


def describe_params(params: dict, names: Mapping[str, str] = {}) -> list[tuple[str, str]]:
    """Each parameter as ``(label, text)``; ``names`` turns codes and gene ids into names."""
    rows = []
    if "first" in params and "stop" in params:  # a part of a scoring job: its variants
        rows.append(("Variants", f"{params['first'] + 1:,}–{params['stop']:,}"))
    for key, value in params.items():
        if key in ("first", "stop"):
            continue
        label = LABELS.get(key, key.replace("_", " ").capitalize())
        rows.append((label, describe_value(key, value, names)))
    return rows


def describe_value(key: str, value, names: Mapping[str, str] = {}) -> str:
    """One parameter's value in words (``key`` says how to read it)."""
    if key == "objective" and isinstance(value, dict):
        return describe_objective(value, names)
    if key == "log" and isinstance(value, bool):
        return "log2(1 + sum)" if value else "sum (linear)"
    if key == "head" and value is None:
        return "mean of all heads"
    if key in ONE_BASED and isinstance(value, int):
        return str(value + 1)
    if key == "allele" and isinstance(value, dict):
        side = "reference" if value.get("side") == "ref" else "alternative"
        variant = names.get(f"variant:{value.get('variant')}", "a variant")
        return f"{side} allele of {variant}"
    if key == "effect":
        return names.get(f"effect:{value}", f"scored allele {value}")
    if key in CODES and isinstance(value, str):
        return names.get(value, value[:8])
    if key == "report_top" and isinstance(value, int):
        return f"the {value} strongest variants" if value else "none"
    return _plain(value, names)


def describe_objective(objective: dict, names: Mapping[str, str] = {}) -> str:
    """``gene TDH3``, or ``tracks a, b over VII:1,001-2,000`` (every output bin by default)."""
    if objective.get("gene"):
        gene = objective["gene"]
        return f"gene {names.get(f'gene:{gene}', gene)}"
    tracks = _plain(objective.get("tracks") or [], names)
    over = objective.get("over")
    where = _plain(over, names) if over else "every output bin"
    return f"tracks {tracks} over {where}"


def _plain(value, names: Mapping[str, str]) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "—"
    if _is_interval(value):
        return Interval(*value).readable()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (list, tuple)):
        items = [_plain(item, names) for item in value[:MAX_LISTED]]
        more = f" … ({len(value):,} in all)" if len(value) > MAX_LISTED else ""
        return ", ".join(items) + more if items else "none"
    if isinstance(value, dict):
        return "; ".join(f"{k.replace('_', ' ')} {_plain(v, names)}" for k, v in value.items())
    return str(value)


def _is_interval(value) -> bool:
    """``[chrom, start, end]``: how jobs store a region (0-based, half-open)."""
    return (
        isinstance(value, (list, tuple))
        and len(value) == 3
        and isinstance(value[0], str)
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value[1:])
        and 0 <= value[1] <= value[2]
    )


def job_subject(job: Job, names: Mapping[str, str] = {}) -> str:
    """What a job ran on, in a few words: ``yeast-demo · gene TDH3 · VII:883,714-883,905``."""
    params = job.params
    parts = [params["model"]] if params.get("model") else []
    if job.kind in (JobKind.VALIDATE_VCF, JobKind.SCORE_VARIANTS) and "variant_set" in params:
        parts.insert(0, names.get(params["variant_set"], "a variant set"))
    if job.kind == JobKind.VALIDATE_VCF and params.get("genome"):
        parts.append(f"against {params['genome']}")
    if job.kind == JobKind.SCORE_VARIANTS and params.get("tracks"):
        parts.append(f"{len(params['tracks']):,} track{'s' if len(params['tracks']) > 1 else ''}")
    if "allele" in params:
        parts.append(describe_value("allele", params["allele"], names))
    if "effect" in params:
        parts.append(describe_value("effect", params["effect"], names))
    if params.get("objective"):
        parts.append(describe_objective(params["objective"], names))
    if job.kind == JobKind.ATTENTION and "layer" in params:
        parts.append(f"layer {params['layer'] + 1}")
    if _is_interval(params.get("region")) and "allele" not in params:
        parts.append(Interval(*params["region"]).readable())
    if "design" in params:
        parts.append(f"{names.get(params['design'], 'a design')}, version {params['version']}")
    if job.kind == JobKind.BUNDLE and "job" in params:
        parts.append(names.get(params["job"], "another job"))
    return " · ".join(parts)


def job_names(jobs: Iterable[Job]) -> dict[str, str]:
    """The names the jobs' parameters refer to: by code (variant sets, designs, jobs), and as
    ``gene:<id>``, ``variant:<pk>`` and ``effect:<pk>``."""
    from genomeweb.catalog.models import Gene
    from genomeweb.designs.models import Design
    from genomeweb.variants.models import Variant, VariantEffect, VariantSet

    jobs = list(jobs)
    wanted: dict[str, set] = {key: set() for key in ("set", "design", "job", "gene", "pk")}
    workspaces = {job.workspace_id for job in jobs}
    for job in jobs:
        params = job.params
        wanted["set"].add(params.get("variant_set"))
        wanted["design"].add(params.get("design"))
        wanted["job"].update(params.get(key) for key in ("job", "pair", "effects_job"))
        wanted["gene"].add((params.get("objective") or {}).get("gene"))
        wanted["pk"].add((params.get("allele") or {}).get("variant"))
    names: dict[str, str] = {}
    codes = {key: {v for v in values if isinstance(v, str)} for key, values in wanted.items()}
    sets = VariantSet.objects.filter(workspace__in=workspaces, code__in=codes["set"])
    names |= {str(code): name for code, name in sets.values_list("code", "name")}
    designs = Design.objects.filter(workspace__in=workspaces, code__in=codes["design"])
    names |= {str(code): name for code, name in designs.values_list("code", "name")}
    for other in Job.objects.filter(workspace__in=workspaces, code__in=codes["job"]):
        names[str(other.code)] = f"{other.get_kind_display()} job {str(other.code)[:8]}"
    genes = Gene.objects.filter(gene_id__in=codes["gene"]).values_list("gene_id", "name")
    names |= {f"gene:{gene_id}": name or gene_id for gene_id, name in genes}
    variant_ids = {v for v in wanted["pk"] if isinstance(v, int)}
    variants = Variant.objects.filter(pk__in=variant_ids, variant_set__workspace__in=workspaces)
    names |= {f"variant:{variant.pk}": _variant_name(variant) for variant in variants}
    effect_ids = [job.params["effect"] for job in jobs if isinstance(job.params.get("effect"), int)]
    effects = VariantEffect.objects.filter(pk__in=effect_ids, job__workspace__in=workspaces)
    effects = effects.select_related("variant")
    names |= {f"effect:{effect.pk}": _variant_name(effect.variant) for effect in effects}
    return names


def _variant_name(variant) -> str:
    """``VII:883,850 G>A (TDH3_up40)``."""
    ident = f" ({variant.ident})" if variant.ident and variant.ident != "." else ""
    return f"{variant.chrom}:{variant.pos:,} {variant.ref}>{variant.alt}{ident}"
