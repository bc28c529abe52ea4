from django import forms


class TokenForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="Where you will use it, e.g. 'lab laptop' or 'cluster scripts'"
    )
