import uuid

from django import forms

from engine.io.files import MAX_SHIFT_BP, MAX_SHIFTS
from genomeweb.catalog.models import Genome, Predictor
from genomeweb.variants.models import NOTE_MAX_LENGTH, Mark

VCF_SUFFIXES = (".vcf", ".vcf.gz", ".vcf.bgz")


class UploadForm(forms.Form):
    name = forms.CharField(max_length=200, required=False, help_text="Defaults to the file name")
    genome = forms.ModelChoiceField(queryset=Genome.objects.all(), empty_label=None)
    vcf = forms.FileField(label="VCF file", help_text=".vcf, .vcf.gz or bgzip")
    # A fresh key per rendered form: a double click or a retried POST creates one job, not two.
    submission = forms.UUIDField(widget=forms.HiddenInput, initial=uuid.uuid4)

    def clean_vcf(self):
        upload = self.cleaned_data["vcf"]
        if not upload.name.lower().endswith(VCF_SUFFIXES):
            raise forms.ValidationError(
                f"'{upload.name}' does not look like a VCF: expected a name ending in "
                ".vcf, .vcf.gz or .vcf.bgz."
            )
        if upload.size == 0:
            raise forms.ValidationError("The file is empty.")
        return upload


SCORER_CHOICES = [
    ("logSED", "logSED — log2 fold change of summed coverage"),
    ("SUM", "SUM — change in summed coverage"),
    ("logSUM", "logSUM — change in summed log coverage"),
    ("D1", "D1 — L1 distance of the profiles"),
    ("D2", "D2 — L2 distance of the profiles"),
    ("logD1", "logD1 — L1 distance of log profiles"),
    ("logD2", "logD2 — L2 distance of log profiles"),
    ("SAX", "SAX — signed change at the most changed bin"),
    ("JS", "JS — Jensen-Shannon-like divergence of the profiles"),
]
DEFAULT_SCORERS = ["logSED", "logD2", "SUM", "D2"]


class ScoreForm(forms.Form):
    """What to score a variant set with. Tracks are chosen by a preset plus a search."""

    model = forms.ModelChoiceField(queryset=Predictor.objects.none(), empty_label=None)
    track_query = forms.CharField(
        required=False,
        label="Tracks",
        help_text="Words every chosen track must match, e.g. "
        "'RNA liver' or 'WT_1'; empty for all tracks",
    )
    assay = forms.CharField(required=False, help_text="Only tracks of this assay")
    scorers = forms.MultipleChoiceField(
        choices=SCORER_CHOICES, initial=DEFAULT_SCORERS, widget=forms.CheckboxSelectMultiple
    )
    reverse_complement = forms.BooleanField(
        required=False, initial=True, help_text="Average with the reverse complement (2× passes)"
    )
    shifts = forms.CharField(
        initial="0",
        help_text="Input shifts in bp, comma-separated (× passes); each score is averaged over "
        "them. The model's default makes its scores robust to where the window falls",
    )
    replicates = forms.IntegerField(
        min_value=1,
        initial=1,
        help_text="Model replicates (folds): each score is their mean, shown ± their standard "
        "deviation",
    )
    genes = forms.BooleanField(
        required=False,
        initial=True,
        help_text="Also score genes in each variant's window (SED, logSED)",
    )

    def __init__(self, *args, genome: Genome, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["model"].queryset = Predictor.objects.filter(genome=genome)

    @classmethod
    def defaults(cls, genome: Genome) -> dict | None:
        """Form data for a first visit, so the page shows the cost of the defaults at once."""
        predictor = Predictor.objects.filter(genome=genome).first()
        if predictor is None:
            return None
        data = {
            "model": predictor.pk,
            "track_query": "",
            "assay": "",
            "shifts": ",".join(str(shift) for shift in predictor.default_shifts),
            "replicates": str(max(len(predictor.replicates), 1)),
            "genes": "on",
        }
        if predictor.reverse_complement_by_default:
            data["reverse_complement"] = "on"
        return data | {"scorers": DEFAULT_SCORERS}

    def clean_shifts(self) -> list[int]:
        text = self.cleaned_data["shifts"]
        try:
            shifts = sorted({int(part) for part in text.replace(" ", "").split(",") if part})
        except ValueError:
            raise forms.ValidationError(f"'{text}' is not a list of whole numbers") from None
        if not shifts or any(abs(s) > MAX_SHIFT_BP for s in shifts) or len(shifts) > MAX_SHIFTS:
            raise forms.ValidationError(
                f"Give 1 to {MAX_SHIFTS} shifts between -{MAX_SHIFT_BP} and {MAX_SHIFT_BP} bp"
            )
        return shifts

    def clean(self) -> dict:
        data = super().clean()
        model = data.get("model")
        if model and data.get("replicates", 1) > len(model.replicates):
            self.add_error("replicates", f"{model.name} has {len(model.replicates)} replicate(s)")
        if model and not self.chosen_tracks().exists():
            self.add_error("track_query", "No track of this model matches")
        return data

    def chosen_tracks(self):
        from genomeweb.catalog.tracks import search_tracks

        tracks = search_tracks(
            self.cleaned_data["model"].tracks.all(), self.cleaned_data.get("track_query", "")
        )
        assay = self.cleaned_data.get("assay")
        return tracks.filter(assay__iexact=assay) if assay else tracks


class MarkForm(forms.Form):
    """Set (``on=true``) or clear one mark: the same POST twice leaves the same state."""

    mark = forms.ChoiceField(choices=Mark.choices)
    on = forms.BooleanField(required=False)


class NoteForm(forms.Form):
    text = forms.CharField(
        label="Note",
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": "A note everyone here can read"}),
        error_messages={
            "required": "Write the note first.",
            "max_length": f"A note holds at most {NOTE_MAX_LENGTH:,} characters; this one has "
            "%(show_value)s. Shorten it, or split it into two notes.",
        },
    )
