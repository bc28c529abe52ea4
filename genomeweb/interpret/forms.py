"""The interpretation form: what to explain (a locus), with which model, by which objective."""

from django import forms

from genomeweb.catalog.models import Gene, Predictor
from genomeweb.genomics.intervals import Interval

MAX_ISM_BP = 2_000  # as worker.tasks: 6,000 mutants
DEFAULT_ISM_BP = 192  # MODEL_NOTES.md's focused-ISM width


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
        min_value=1, max_value=MAX_ISM_BP, initial=DEFAULT_ISM_BP, help_text="bp, with a gene"
    )
    objective = forms.ChoiceField(
        choices=[
            ("gene", "A gene: its strand-matched tracks over its exons"),
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
