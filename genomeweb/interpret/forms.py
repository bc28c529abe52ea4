"""The interpretation form: what to explain (a locus), with which model, by which objective."""

from django import forms

from engine.interpret.ism_rules import FOCUSED_ISM_BP, MAX_ISM_BP
from engine.io.intervals import Interval
from genomeweb.catalog.models import Gene, Predictor
from genomeweb.jobs.models import JobKind

METHOD_KINDS = {"ism": JobKind.ISM, "saliency": JobKind.SALIENCY, "attention": JobKind.ATTENTION}


class InterpretForm(forms.Form):
    method = forms.ChoiceField(
        choices=[
            ("ism", "In silico mutagenesis"),
            ("saliency", "Gradient saliency"),
            ("attention", "Attention map"),
        ]
    )
    model = forms.ModelChoiceField(Predictor.objects.all(), empty_label=None)
    gene = forms.CharField(
        required=False,
        help_text="Name or id: the stretch is centred on its annotated start (5′ end)",
    )
    region = forms.CharField(
        required=False, help_text="Or coordinates, 1-based: II:278,800-278,991"
    )
    width = forms.IntegerField(
        min_value=1, max_value=MAX_ISM_BP, initial=FOCUSED_ISM_BP, help_text="bp, with a gene"
    )
    objective = forms.ChoiceField(
        choices=[
            (
                "gene",
                "A gene: its strand-matched tracks over its exons (RNA-seq models) or over the "
                "window around its start (TSS models such as yeast-demo)",
            ),
            ("tracks", "Tracks over a range"),
        ]
    )
    objective_gene = forms.CharField(required=False, help_text="Default: the gene above")
    tracks = forms.CharField(required=False, help_text="Track identifiers, comma-separated")
    objective_region = forms.CharField(
        required=False, help_text="Sum the tracks over this range (default: every output bin)"
    )
    log = forms.ChoiceField(
        choices=[("log", "log2(1 + sum)"), ("linear", "sum")], initial="log", label="Scale"
    )
    reverse_complement = forms.BooleanField(required=False, initial=True)
    layer = forms.IntegerField(
        min_value=1, initial=1, required=False, help_text="Attention: the transformer layer, from 1"
    )
    head = forms.IntegerField(
        min_value=1, required=False, help_text="Attention: a head, from 1 (empty: their mean)"
    )

    def clean(self) -> dict:
        data = super().clean()
        predictor = data.get("model")
        if predictor is None or self.errors:
            return data
        data["locus"] = self._locus(predictor, data)
        if data["locus"] is not None and data["method"] != "attention":
            data["objective_params"] = self._objective(predictor, data)
        return data

    def _locus(self, predictor: Predictor, data: dict) -> Interval | None:
        """The ISM stretch (or the saliency window's centre)."""
        if data.get("region"):
            region = self._region(predictor, data["region"], "region")
            if region and data["method"] == "ism" and len(region) > MAX_ISM_BP:
                self.add_error("region", f"ISM takes at most {MAX_ISM_BP:,} bp")
                return None
            return region
        if data.get("gene"):
            gene = self._gene(predictor, data["gene"], "gene")
            if gene is None:
                return None
            start = gene.tss - data["width"] // 2
            return Interval(gene.chrom, start, start + data["width"])
        self.add_error("gene", "Give a gene or a region.")
        return None

    def _objective(self, predictor: Predictor, data: dict) -> dict | None:
        if data["objective"] == "gene":
            name = data.get("objective_gene") or data.get("gene")
            if not name:
                self.add_error("objective_gene", "Which gene's expression should it explain?")
                return None
            gene = self._gene(predictor, name, "objective_gene")
            return {"gene": gene.gene_id} if gene else None
        tracks = [t.strip() for t in data.get("tracks", "").split(",") if t.strip()]
        known = set(
            predictor.tracks.filter(identifier__in=tracks).values_list("identifier", flat=True)
        )
        unknown = [t for t in tracks if t not in known]
        if not tracks or unknown:
            message = f"Unknown tracks: {', '.join(unknown[:5])}" if unknown else "Name a track."
            self.add_error("tracks", message)
            return None
        over = None
        if data.get("objective_region"):
            region = self._region(predictor, data["objective_region"], "objective_region")
            over = [region.chrom, region.start, region.end] if region else None
        return {"tracks": tracks, "over": over}

    def _gene(self, predictor: Predictor, name: str, field: str):
        gene = Gene.objects.named(predictor.genome, name)
        if gene is None:
            self.add_error(field, f"No gene '{name}' in {predictor.genome.name}.")
            return None
        return gene.as_annotation()

    def _region(self, predictor: Predictor, text: str, field: str) -> Interval | None:
        chrom_text, _, span = text.replace(",", "").partition(":")
        chrom = predictor.genome.contig_resolver().resolve(chrom_text.strip())
        if chrom is None:
            self.add_error(field, f"Contig '{chrom_text}' is not in {predictor.genome.name}.")
            return None
        try:
            region = Interval.parse(f"{chrom}:{span}")
        except ValueError as error:
            self.add_error(field, str(error))
            return None
        length = predictor.genome.contigs.get(name=chrom).length
        if region.end > length:
            self.add_error(field, f"{text} runs past the end of {chrom} ({length:,} bp).")
            return None
        return region

    def job_params(self) -> dict:
        """Everything the worker needs; it trusts nothing else. Layers and heads are 0-based
        inside (the worker checks them against the model)."""
        data, locus = self.cleaned_data, self.cleaned_data["locus"]
        params = {
            "model": data["model"].name,
            "region": [locus.chrom, locus.start, locus.end],
            "reverse_complement": data["reverse_complement"],
        }
        if data["method"] == "attention":
            layer, head = data.get("layer") or 1, data.get("head")
            return params | {"layer": layer - 1, "head": head - 1 if head else None}
        return params | {"objective": data["objective_params"], "log": data["log"] == "log"}


MAX_TRACK_CHOICES = 100


class VariantExplainForm(forms.Form):
    """From a variant's page: explain the reference and the alternative allele the same way."""

    method = forms.ChoiceField(
        choices=[
            ("ism", "In silico mutagenesis around the variant"),
            ("saliency", "Gradient saliency over the window"),
            ("attention", "Attention map of the window"),
        ]
    )
    objective = forms.ChoiceField(help_text="What the model should explain")
    width = forms.IntegerField(
        min_value=1, max_value=MAX_ISM_BP, initial=FOCUSED_ISM_BP, help_text="ISM: bp"
    )
    log = forms.ChoiceField(
        choices=[("log", "log2(1 + sum)"), ("linear", "sum")], initial="log", label="Scale"
    )
    layer = forms.IntegerField(min_value=1, initial=1, help_text="Attention: layer, from 1")
    head = forms.IntegerField(min_value=1, required=False, help_text="Attention: empty = mean")

    def __init__(self, *args, scoring_job, effect, **kwargs):
        super().__init__(*args, **kwargs)
        self.scoring_job, self.variant = scoring_job, effect.variant
        self.fields["objective"].choices = objective_choices(scoring_job, effect)

    def clean(self) -> dict:
        data = super().clean()
        if len(self.variant.ref) != len(self.variant.alt):
            raise forms.ValidationError(
                "Reference and alternative side by side need a substitution (SNV or MNV): "
                "this variant changes the length, so the two sequences do not share coordinates."
            )
        return data

    def job_params(self, side: str) -> dict:
        """One side's job: the same model, locus and objective for both, the allele apart."""
        data, variant = self.cleaned_data, self.variant
        params = {
            "model": self.scoring_job.params["model"],
            "region": self._region(),
            "reverse_complement": self.scoring_job.params.get("reverse_complement", True),
            "allele": {"variant": variant.pk, "side": side},
        }
        if data["method"] == "attention":
            head = data.get("head")
            return params | {"layer": data["layer"] - 1, "head": head - 1 if head else None}
        kind, _, name = data["objective"].partition(":")
        objective = {"gene": name} if kind == "gene" else {"tracks": [name], "over": None}
        return params | {"objective": objective, "log": data["log"] == "log"}

    def _region(self) -> list:
        """ISM: ``width`` bp centred on the variant; otherwise the variant itself (the worker
        centres the model window on it)."""
        variant = self.variant
        if self.cleaned_data["method"] != "ism":
            return [variant.chrom, variant.start, variant.start + len(variant.ref)]
        width = self.cleaned_data["width"]
        length = variant.variant_set.genome.contigs.get(name=variant.chrom).length
        centre = variant.start + len(variant.ref) // 2
        start = min(max(centre - width // 2, 0), max(length - width, 0))
        return [variant.chrom, start, min(start + width, length)]


def objective_choices(scoring_job, effect) -> list[tuple[str, str]]:
    """The variant's scored genes (strongest first), then its top track and the others."""
    genes = (
        effect.variant.gene_effects.filter(job=scoring_job)
        .order_by("gene_id")
        .values_list("gene_id", "gene_name")
        .distinct()
    )
    choices = [(f"gene:{gene_id}", f"Gene {name or gene_id}") for gene_id, name in genes]
    if effect.top_gene:
        choices.sort(key=lambda choice: choice[0] != f"gene:{effect.top_gene}")
    tracks = sorted(scoring_job.params["tracks"], key=lambda t: t != effect.top_track)
    tracks = tracks[:MAX_TRACK_CHOICES]  # a Borzoi job may score thousands
    return choices + [(f"track:{t}", f"Track {t}, summed over the window") for t in tracks]
