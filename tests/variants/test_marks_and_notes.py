"""Marks and notes on a variant, shared by its workspace: who may write, htmx and plain POSTs,
escaping, and the results table's filter and column."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from genomeweb.variants.models import Mark, VariantEffect, VariantMark, VariantNote
from genomeweb.workspaces.models import Membership, Role
from tests.conftest import make_user

pytestmark = pytest.mark.usefixtures("no_broker")


@pytest.fixture
def variant(variant_set):
    return variant_set.variants.get()


def url(name: str, variant, **kwargs) -> str:
    return reverse(name, kwargs={"code": variant.code, **kwargs})


def set_mark(client, variant, mark: str, on: bool = True, **headers):
    data = {"mark": mark, "on": "true" if on else "false"}
    return client.post(url("gw-variant-mark", variant), data, **headers)


def test_setting_a_mark_twice_leaves_one_row(as_user, eddie, variant):
    client = as_user(eddie)
    assert set_mark(client, variant, Mark.INTERESTING).status_code == 302
    assert set_mark(client, variant, Mark.INTERESTING).status_code == 302  # a double click
    mark = VariantMark.objects.get(variant=variant)
    assert mark.mark == Mark.INTERESTING and mark.marked_by == eddie
    set_mark(client, variant, Mark.INTERESTING, on=False)
    set_mark(client, variant, Mark.INTERESTING, on=False)
    assert not VariantMark.objects.filter(variant=variant).exists()


def test_an_unknown_mark_is_refused(as_user, eddie, variant):
    assert set_mark(as_user(eddie), variant, "brilliant").status_code == 400
    assert not VariantMark.objects.exists()


def test_with_htmx_a_mark_answers_the_fragment(as_user, eddie, variant):
    response = set_mark(as_user(eddie), variant, Mark.REVIEWED, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body
    assert body.lstrip().startswith('<section class="card" id="annotations">')
    assert 'aria-pressed="true">Reviewed</button>' in body
    assert 'aria-pressed="false">Interesting</button>' in body
    assert "Reviewed: eddie," in body


def test_without_js_a_form_returns_to_the_page_it_was_on(as_user, eddie, variant, scored):
    effect = VariantEffect.objects.filter(job=scored).first()
    page = reverse("gw-effect", kwargs={"code": scored.code, "effect_id": effect.pk})
    client = as_user(eddie)
    html = client.get(page).content.decode()
    assert f'name="next" value="{page}"' in html  # the effect page carries the forms too
    explain = reverse("gw-effect-explain", kwargs={"code": scored.code, "effect_id": effect.pk})
    refused = client.post(explain, {})  # the effect page again, with the form's errors
    assert refused.status_code == 400 and f'name="next" value="{page}"' in refused.content.decode()
    data = {"mark": Mark.FOLLOW_UP, "on": "true", "next": page}
    response = client.post(url("gw-variant-mark", effect.variant), data)
    assert response["Location"] == f"{page}#annotations"
    data["next"] = "https://evil.example/"
    response = client.post(url("gw-variant-mark", effect.variant), data)
    assert response["Location"] == f"{url('gw-variant', effect.variant)}#annotations"


def test_notes_are_seen_by_the_whole_workspace(as_user, eddie, victor, alice, variant):
    as_user(eddie).post(url("gw-variant-note-add", variant), {"text": "Check the splice site"})
    note = VariantNote.objects.get()
    assert note.author == eddie and note.variant == variant
    for reader in (victor, alice):
        body = as_user(reader).get(url("gw-variant", variant)).content.decode()
        assert "Check the splice site" in body and "eddie," in body


def test_with_htmx_a_note_answers_the_fragment(as_user, eddie, variant):
    response = as_user(eddie).post(
        url("gw-variant-note-add", variant), {"text": "GC-rich"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200 and "<html" not in body and "GC-rich" in body


def test_viewers_cannot_mark_or_write_notes(as_user, alice, victor, variant):
    note = variant.add_note("by the owner", author=alice)
    client = as_user(victor)
    assert set_mark(client, variant, Mark.INTERESTING).status_code == 403
    assert client.post(url("gw-variant-note-add", variant), {"text": "hi"}).status_code == 403
    delete = url("gw-variant-note-delete", variant, note_code=note.code)
    assert client.post(delete).status_code == 403
    assert not VariantMark.objects.exists() and VariantNote.objects.count() == 1
    body = client.get(url("gw-variant", variant)).content.decode()
    assert "Add note" not in body and "Delete</button>" not in body


def test_outsiders_cannot_write_either(as_user, bob, variant):
    client = as_user(bob)
    assert set_mark(client, variant, Mark.INTERESTING).status_code == 404
    assert client.post(url("gw-variant-note-add", variant), {"text": "hi"}).status_code == 404
    assert not VariantMark.objects.exists() and not VariantNote.objects.exists()


def test_only_the_author_or_an_owner_deletes_a_note(as_user, alice, eddie, workspace, variant):
    erin = make_user("erin")
    Membership.objects.create(workspace=workspace, user=erin, role=Role.EDITOR)
    note = variant.add_note("eddie's", author=eddie)
    delete = url("gw-variant-note-delete", variant, note_code=note.code)
    assert as_user(erin).post(delete).status_code == 403  # another editor
    assert "Delete</button>" not in as_user(erin).get(url("gw-variant", variant)).content.decode()
    assert VariantNote.objects.filter(pk=note.pk).exists()
    assert as_user(eddie).post(delete).status_code == 302  # its author
    assert not VariantNote.objects.filter(pk=note.pk).exists()
    other = variant.add_note("erin's", author=erin)
    delete = url("gw-variant-note-delete", variant, note_code=other.code)
    assert as_user(alice).post(delete).status_code == 302  # the owner
    assert not VariantNote.objects.exists()


def test_a_note_of_another_variant_is_404(as_user, eddie, variant, scored):
    elsewhere = VariantEffect.objects.filter(job=scored).first().variant
    note = elsewhere.add_note("elsewhere", author=eddie)
    response = as_user(eddie).post(url("gw-variant-note-delete", variant, note_code=note.code))
    assert response.status_code == 404 and VariantNote.objects.filter(pk=note.pk).exists()


def test_note_text_is_escaped(as_user, eddie, victor, variant):
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    as_user(eddie).post(url("gw-variant-note-add", variant), {"text": attack})
    body = as_user(victor).get(url("gw-variant", variant)).content.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img" in body
    assert "<script>alert" not in body and "<img src=x" not in body


def test_a_too_long_note_gets_a_clear_error(as_user, eddie, variant):
    client = as_user(eddie)
    response = client.post(url("gw-variant-note-add", variant), {"text": "A" * 1001})
    body = response.content.decode()
    assert response.status_code == 400
    assert "A note holds at most 1,000 characters; this one has 1001." in body
    assert "A" * 1001 in body  # what was typed is kept, to shorten
    fragment = client.post(
        url("gw-variant-note-add", variant), {"text": "A" * 1001}, HTTP_HX_REQUEST="true"
    )
    assert fragment.status_code == 200 and "at most 1,000 characters" in fragment.content.decode()
    assert not VariantNote.objects.exists()
    client.post(url("gw-variant-note-add", variant), {"text": "A" * 1000})
    assert VariantNote.objects.get().text == "A" * 1000


def test_an_empty_note_is_refused(as_user, eddie, variant):
    response = as_user(eddie).post(url("gw-variant-note-add", variant), {"text": "   "})
    assert response.status_code == 400 and "Write the note first." in response.content.decode()


def test_the_effect_page_shows_and_takes_marks_and_notes(as_user, eddie, victor, scored):
    effect = VariantEffect.objects.filter(job=scored).first()
    effect.variant.set_mark(Mark.INTERESTING, user=eddie, on=True)
    effect.variant.add_note("seen in two families", author=eddie)
    page = reverse("gw-effect", kwargs={"code": scored.code, "effect_id": effect.pk})
    body = as_user(victor).get(page).content.decode()
    assert '<span class="badge mark on">Interesting</span>' in body
    assert "seen in two families" in body and "Add note" not in body
    assert url("gw-variant-note-add", effect.variant) in as_user(eddie).get(page).content.decode()


# --- the results table ------------------------------------------------------------------------


def effect_links(body: str) -> set[str]:
    """The effect pages linked from the table's rows."""
    rows = body.split("<tbody>")[1].split("</tbody>")[0]
    return {part.split('"')[0] for part in rows.split('<a href="')[1:]}


def test_the_table_filters_by_mark(as_user, eddie, victor, scored):
    effects = list(VariantEffect.objects.filter(job=scored).order_by("variant__index"))
    effects[0].variant.set_mark(Mark.INTERESTING, user=eddie, on=True)
    effects[3].variant.set_mark(Mark.INTERESTING, user=eddie, on=True)
    effects[3].variant.set_mark(Mark.REVIEWED, user=eddie, on=True)
    effects[5].variant.add_note("odd", author=eddie)
    client = as_user(victor)
    table = reverse("gw-effects", kwargs={"code": scored.code})

    def shown(mark: str) -> tuple[str, set[str]]:
        body = client.get(table, {"mark": mark}, HTTP_HX_REQUEST="true").content.decode()
        return body, effect_links(body)

    def links(*indices: int) -> set[str]:
        return {
            reverse("gw-effect", kwargs={"code": scored.code, "effect_id": effects[i].pk})
            for i in indices
        }

    body, rows = shown(Mark.INTERESTING)
    assert "2 alleles" in body and rows == links(0, 3)
    body, rows = shown(Mark.REVIEWED)
    assert "1 allele<" in body and rows == links(3)
    body, rows = shown("marked")
    assert "2 alleles" in body and rows == links(0, 3)
    body, rows = shown("note")
    assert "1 allele<" in body and rows == links(5)
    body, rows = shown(Mark.FOLLOW_UP)
    assert "0 alleles" in body and "No allele matches these filters." in body
    assert "7 alleles" in shown("junk")[0]  # an unknown value filters nothing
    both = client.get(table, {"mark": Mark.INTERESTING, "kind": "indel"}).content.decode()
    assert (
        f"{effects[0].variant.chrom}:" in both and '<option value="interesting" selected>' in both
    )


def test_the_table_shows_marks_and_note_counts(as_user, eddie, victor, scored):
    effect = VariantEffect.objects.filter(job=scored).order_by("variant__index").first()
    effect.variant.set_mark(Mark.LIKELY_BENIGN, user=eddie, on=True)
    effect.variant.add_note("one", author=eddie)
    effect.variant.add_note("two", author=eddie)
    body = as_user(victor).get(reverse("gw-effects", kwargs={"code": scored.code})).content
    row = body.decode().split(f'/effects/{effect.pk}/"')[1].split("</tr>")[0]
    assert '<span class="badge mark on">Likely benign</span>' in row
    assert '<span class="badge note">2 notes</span>' in row


def test_the_histogram_follows_marks_made_after_it_was_cached(as_user, eddie, victor, scored):
    client = as_user(victor)
    table = reverse("gw-effects", kwargs={"code": scored.code})
    assert "Distribution of logSED" in client.get(table).content.decode()
    assert "Distribution of logSED" not in client.get(table, {"mark": "reviewed"}).content.decode()
    effect = VariantEffect.objects.filter(job=scored).first()
    effect.variant.set_mark(Mark.REVIEWED, user=eddie, on=True)
    body = client.get(table, {"mark": "reviewed"}).content.decode()
    assert "Distribution of logSED" in body and ": 1</title>" in body  # one allele counted
    effect.variant.set_mark(Mark.REVIEWED, user=eddie, on=False)
    assert "Distribution of logSED" not in client.get(table, {"mark": "reviewed"}).content.decode()


def test_the_marks_column_costs_the_same_queries_however_many_rows_are_marked(
    as_user, eddie, victor, scored
):
    client = as_user(victor)
    table = reverse("gw-effects", kwargs={"code": scored.code})
    client.get(table)  # the histogram is cached from here on

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(table, HTTP_HX_REQUEST="true").status_code == 200
        return len(captured)

    unmarked = queries()
    for effect in VariantEffect.objects.filter(job=scored):
        effect.variant.set_mark(Mark.INTERESTING, user=eddie, on=True)
        effect.variant.add_note("n", author=eddie)
    assert queries() == unmarked
