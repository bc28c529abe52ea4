from django.contrib.auth import views as auth_views
from django.urls import path

from genomeweb.api import views as api_tokens
from genomeweb.api.v1 import api
from genomeweb.catalog import views as catalog
from genomeweb.designs import views as designs
from genomeweb.interpret import views as interpret
from genomeweb.jobs import views as jobs
from genomeweb.results import views as results
from genomeweb.variants import views as variants
from genomeweb.workspaces import views as workspaces

handler404 = "genomeweb.api.errors.not_found"
handler500 = "genomeweb.lib.unavailable.server_error"

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/signup/", workspaces.signup, name="gw-signup"),
    path("", workspaces.home, name="gw-home"),
    path("workspaces/new/", workspaces.create, name="gw-workspace-create"),
    path("w/<uuid:code>/", workspaces.detail, name="gw-workspace"),
    path("w/<uuid:code>/members/", workspaces.members, name="gw-members"),
    path("w/<uuid:code>/members/add/", workspaces.add_member, name="gw-member-add"),
    path(
        "w/<uuid:code>/members/<uuid:member_code>/role/",
        workspaces.change_role,
        name="gw-member-role",
    ),
    path(
        "w/<uuid:code>/members/<uuid:member_code>/remove/",
        workspaces.remove_member,
        name="gw-member-remove",
    ),
    path("w/<uuid:code>/variants/upload/", variants.upload, name="gw-variantset-upload"),
    path("variant-sets/<uuid:code>/", variants.detail, name="gw-variantset"),
    path("variant-sets/<uuid:code>/score/", variants.score, name="gw-variantset-score"),
    path("jobs/<uuid:code>/effects/", variants.effects, name="gw-effects"),
    path("jobs/<uuid:code>/effects.bed", variants.effects_bed, name="gw-effects-bed"),
    path("jobs/<uuid:code>/effects/<int:effect_id>/", variants.effect_detail, name="gw-effect"),
    path(
        "jobs/<uuid:code>/effects/<int:effect_id>/tracks/",
        variants.request_tracks,
        name="gw-effect-tracks",
    ),
    path(
        "jobs/<uuid:code>/effects/<int:effect_id>/explain/",
        variants.explain,
        name="gw-effect-explain",
    ),
    path("w/<uuid:code>/variants/search/", variants.search, name="gw-variant-search"),
    path("variants/<uuid:code>/", variants.variant_detail, name="gw-variant"),
    path("variants/<uuid:code>/marks/", variants.mark, name="gw-variant-mark"),
    path("variants/<uuid:code>/notes/", variants.add_note, name="gw-variant-note-add"),
    path(
        "variants/<uuid:code>/notes/<uuid:note_code>/delete/",
        variants.delete_note,
        name="gw-variant-note-delete",
    ),
    path("w/<uuid:code>/interpret/", interpret.new, name="gw-interpret-new"),
    path("jobs/<uuid:code>/interpretation/", interpret.result, name="gw-interpretation"),
    path("jobs/<uuid:code>/focused-ism/", interpret.focused_ism, name="gw-interpret-focused"),
    path("jobs/<uuid:code>/alleles/", interpret.alleles, name="gw-interpret-alleles"),
    path(
        "jobs/<uuid:code>/attention/<int:row>/",
        interpret.attention_links,
        name="gw-attention-links",
    ),
    path("w/<uuid:code>/designs/new/", designs.new, name="gw-design-new"),
    path("designs/<uuid:code>/", designs.detail, name="gw-design"),
    path("designs/<uuid:code>/predict/", designs.predict, name="gw-design-predict"),
    path("designs/<uuid:code>/edits/", designs.add_edit, name="gw-design-edit-add"),
    path(
        "designs/<uuid:code>/edits/<int:index>/remove/",
        designs.remove_edit,
        name="gw-design-edit-remove",
    ),
    path("designs/<uuid:code>/paste/", designs.paste, name="gw-design-paste"),
    path("designs/<uuid:code>/motifs/", designs.motifs, name="gw-design-motifs"),
    path("designs/<uuid:code>/fasta/", designs.fasta, name="gw-design-fasta"),
    path("jobs/<uuid:code>/", jobs.detail, name="gw-job"),
    path("jobs/<uuid:code>/cancel/", jobs.cancel, name="gw-job-cancel"),
    path("jobs/<uuid:code>/bundle/", results.bundle, name="gw-bundle"),
    path("files/<uuid:code>/", results.download, name="gw-artifact"),
    path("files/<uuid:code>/<str:filename>", results.download, name="gw-artifact-named"),
    path("genomes/", catalog.genomes, name="gw-genomes"),
    path("genomes/<slug:name>/", catalog.genome_detail, name="gw-genome"),
    path("genomes/<slug:name>/files/<str:filename>", catalog.genome_file, name="gw-genome-file"),
    path(
        "genomes/<slug:name>/observed/<int:pk>/<str:filename>",
        catalog.observed_file,
        name="gw-observed-file",
    ),
    path("models/", catalog.models, name="gw-models"),
    path("models/<slug:name>/", catalog.model_detail, name="gw-model"),
    path("account/api-tokens/", api_tokens.tokens, name="gw-api-tokens"),
    path("account/api-tokens/<uuid:code>/revoke/", api_tokens.revoke, name="gw-api-token-revoke"),
    path("api/v1/", api.urls),
]
