"""Forms for starting a design and changing its edits. Positions typed here are 1-based genome
positions; ``clean`` turns them into 0-based window coordinates."""

from __future__ import annotations

from django import forms
from django.db.models import Q, QuerySet

from engine.designs.edits import (
    DELETION,
    INSERTION,
    REPLACEMENT,
    SUBSTITUTION,
    Edit,
    check_bases,
    parse_sequence,
)
from engine.io.intervals import Interval
from genomeweb.catalog.models import Gene, Genome, Predictor
from genomeweb.designs.models import Design

MAX_GENE_MATCHES = 20


def matching_genes(predictor: Predictor | None, query: str) -> QuerySet[Gene]:
    """Genes of the model's genome whose name or id starts with ``query`` (search as you type)."""
    query = query.strip()
    if predictor is None or not query:
        return Gene.objects.none()
    return (
        Gene.objects.filter(genome=predictor.genome_id)
        .filter(Q(name__istartswith=query) | Q(gene_id__istartswith=query))
        .order_by("name", "gene_id")[:MAX_GENE_MATCHES]
    )


def tss_window(gene: Gene, length: int) -> Interval:
    """``length`` bp centred on the gene's transcription start site (strand-aware)."""
    tss = gene.end - 1 if gene.strand == "-" else gene.start
    return Interval(gene.chrom, tss, tss + 1).resize(length)


def region_window(genome: Genome, text: str, length: int) -> tuple[Interval, Interval]:
    """The region a user typed (contig aliases resolved) and the ``length`` bp centred on it.

    Raises:
        forms.ValidationError: not a region, an unknown contig, or a region off the contig.
    """
    try:
        region = Interval.parse(text)
    except ValueError as error:
        raise forms.ValidationError(str(error)) from None
    chrom = genome.contig_resolver().resolve(region.chrom)
    contig = genome.contigs.filter(name=chrom).first()
    if contig is None:
        names = ", ".join(genome.contigs.values_list("name", flat=True)[:12])
        raise forms.ValidationError(
            f"Genome {genome.name} has no contig '{region.chrom}'; its contigs are {names}."
        )
    if region.start >= contig.length:
        raise forms.ValidationError(
            f"{text} starts after the end of {chrom} ({contig.length:,} bp)."
        )
    region = Interval(chrom, region.start, region.end)
    return region, region.resize(length)


class NewDesignForm(forms.Form):
    model = forms.ModelChoiceField(
        queryset=Predictor.objects.select_related("genome"),
        empty_label=None,
        help_text="Its input length sizes the window",
    )
    gene = forms.CharField(
        required=False,
        help_text="A gene name or systematic id, e.g. HIS3: the window is centred on its TSS",
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off"}),
    )
    gene_id = forms.CharField(required=False, widget=forms.HiddenInput)
    region = forms.CharField(
        required=False,
        help_text="1-based chrom:start-end, e.g. II:1,000-2,000: the window is centred on it",
    )
    name = forms.CharField(
        max_length=200, required=False, help_text="Defaults to the gene or the region"
    )

    def clean(self) -> dict:
        data = super().clean()
        predictor = data.get("model")
        if predictor is None:
            return data
        gene_text, region_text = data.get("gene", "").strip(), data.get("region", "").strip()
        if bool(gene_text or data.get("gene_id")) == bool(region_text):
            raise forms.ValidationError("Give either a gene or a region.")
        if region_text:
            self._choose_region(predictor, region_text)
        else:
            self._choose_gene(predictor, gene_text, data.get("gene_id", ""))
        return data

    def save(self, workspace, user) -> Design:
        """The new design (call after ``is_valid``)."""
        data = self.cleaned_data
        return Design.start_new(
            workspace=workspace,
            user=user,
            predictor=data["model"],
            window=data["window"],
            name=data["name"].strip() or data["default_name"],
            centred_on=data["centred_on"],
        )

    def _choose_region(self, predictor: Predictor, text: str) -> None:
        try:
            region, window = region_window(predictor.genome, text, predictor.sequence_length)
        except forms.ValidationError as error:
            self.add_error("region", error)
            return
        described = region.readable()
        self.cleaned_data.update(window=window, centred_on=described, default_name=described)

    def _choose_gene(self, predictor: Predictor, text: str, gene_id: str) -> None:
        genes = Gene.objects.filter(genome=predictor.genome_id)
        if gene_id:
            found = list(genes.filter(gene_id=gene_id))
        else:
            found = list(genes.filter(Q(name__iexact=text) | Q(gene_id__iexact=text))[:2])
        if len(found) != 1:
            problem = "No gene" if not found else "More than one gene"
            self.add_error(
                "gene",
                f"{problem} of {predictor.genome.name} is called '{text or gene_id}'; "
                "choose one from the list as you type.",
            )
            return
        gene = found[0]
        self.cleaned_data.update(
            window=tss_window(gene, predictor.sequence_length),
            centred_on=f"{gene} TSS ({gene.locus}, {gene.strand} strand)",
            default_name=f"{gene} promoter",
        )


EDIT_KIND_CHOICES = [
    (SUBSTITUTION, "Substitution: new bases from the position on, same length"),
    (INSERTION, "Insertion: new bases before the position"),
    (DELETION, "Deletion: remove the position to the end position"),
    (REPLACEMENT, "Replacement: put new bases in place of the position to the end position"),
]


def parse_position(text: str) -> int:
    """A 1-based position as typed, commas allowed ("278,905")."""
    cleaned = text.replace(",", "").replace("_", "").strip()
    try:
        return int(cleaned)
    except ValueError:
        raise forms.ValidationError(
            f"'{text}' is not a position: type a number like 1,234"
        ) from None


class EditForm(forms.Form):
    """One new edit. ``version`` is the design version the page was rendered with."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    kind = forms.ChoiceField(choices=EDIT_KIND_CHOICES)
    position = forms.CharField(help_text="1-based position on the genome, e.g. 278,905")
    end_position = forms.CharField(
        required=False, help_text="Deletion and replacement: the last base, 1-based (inclusive)"
    )
    bases = forms.CharField(required=False, help_text="New bases: A, C, G, T or N")
    label = forms.CharField(max_length=200, required=False, help_text="e.g. a motif name")
    message = forms.CharField(max_length=300, required=False, help_text="For the version history")

    def __init__(self, *args, design: Design, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.design = design
        self.fields[
            "position"
        ].help_text = f"1-based position on {design.chrom}; the window is {design.locus}"

    def clean_position(self) -> int:
        return parse_position(self.cleaned_data["position"])

    def clean_end_position(self) -> int | None:
        text = self.cleaned_data["end_position"]
        return parse_position(text) if text.strip() else None

    def clean_bases(self) -> str:
        bases = "".join(self.cleaned_data["bases"].split()).upper()
        try:
            check_bases(bases, "the new bases")
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None
        return bases

    def clean(self) -> dict:
        data = super().clean()
        if data.get("kind") != DELETION and "bases" in data and not data["bases"]:
            self.add_error("bases", f"Type the bases of the {data.get('kind')}.")
        return data

    def edit(self) -> Edit:
        """The edit in window coordinates (0-based half-open)."""
        data = self.cleaned_data
        start = data["position"] - 1 - self.design.start
        last = data["end_position"] or data["position"]
        end = {
            SUBSTITUTION: start + len(data["bases"]),
            INSERTION: start,
            DELETION: last - self.design.start,
            REPLACEMENT: last - self.design.start,
        }[data["kind"]]
        bases = "" if data["kind"] == DELETION else data["bases"]
        return Edit(data["kind"], start, end, bases, data["label"].strip())


class PasteForm(forms.Form):
    """A whole edited sequence, as FASTA or plain bases; it replaces every edit."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
    fasta = forms.CharField(
        label="Sequence",
        widget=forms.Textarea(attrs={"rows": 6, "cols": 80, "spellcheck": "false"}),
        help_text="One FASTA record or plain bases; it replaces all edits. Case and line breaks "
        "do not matter.",
    )
    message = forms.CharField(max_length=300, required=False, help_text="For the version history")

    def __init__(self, *args, design: Design, **kwargs) -> None:
        # its own element ids: the edit form on the same page also has a "message" field, and
        # a label must point at one element
        kwargs.setdefault("auto_id", "id_paste_%s")
        super().__init__(*args, **kwargs)
        self.design = design

    def clean_fasta(self) -> str:
        try:
            sequence = parse_sequence(self.cleaned_data["fasta"])
        except ValueError as error:
            raise forms.ValidationError(str(error)) from None
        # A design stays model-sized; a paste far longer is most likely the wrong file.
        limit = 2 * (self.design.end - self.design.start)
        if len(sequence) > limit:
            raise forms.ValidationError(
                f"The pasted sequence has {len(sequence):,} bases; this design's window is "
                f"{limit // 2:,} bp, so at most {limit:,} are accepted."
            )
        return sequence


class VersionForm(forms.Form):
    """Just the version a change was made from (removing an edit)."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)
