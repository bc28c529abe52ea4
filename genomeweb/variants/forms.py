import uuid

from django import forms

from genomeweb.catalog.models import Genome

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
