from django import forms
from django.contrib.auth import get_user_model

from genomeweb.workspaces.models import Role, Workspace


class WorkspaceForm(forms.ModelForm):
    class Meta:
        model = Workspace
        fields = ["name", "description"]


class AddMemberForm(forms.Form):
    who = forms.CharField(label="Username or email", max_length=254)
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)

    def clean_who(self):
        who = self.cleaned_data["who"].strip()
        users = get_user_model().objects.filter(is_active=True)
        user = users.filter(username__iexact=who).first() or users.filter(email__iexact=who).first()
        if user is None:
            raise forms.ValidationError(
                f"No user '{who}' exists. Ask them to sign up first, then add them here."
            )
        return user


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
