"""The design page: adding and removing edits of each kind, pastes, the diff and the map."""

import pytest
from django.urls import reverse

from engine.designs.edits import Edit
from genomeweb.designs.models import Design


def url(name: str, design: Design, **kwargs) -> str:
    return reverse(name, kwargs={"code": design.code, **kwargs})


def add(client, design: Design, **fields):
    data = {"version": design.version, "label": "", "message": "", "end_position": ""} | fields
    return client.post(url("gw-design-edit-add", design), data)


def current(design: Design) -> Design:
    return Design.objects.get(pk=design.pk)


def test_the_page_shows_the_window_and_model(as_user, victor, design):
    response = as_user(victor).get(url("gw-design", design))
    html = response.content.decode()
    assert response.status_code == 200
    assert "II:1,001-2,000" in html and "mini-model" in html and "1,000 bp" in html
    assert "No edits yet" in html
    assert "Add an edit" not in html  # viewers read only


def test_the_page_shows_its_permalink(as_user, victor, design):
    html = as_user(victor).get(url("gw-design", design)).content.decode()
    assert f'href="{url("gw-design", design)}" class="permalink"' in html


def test_a_substitution_is_saved_in_window_coordinates(as_user, eddie, design, reference):
    response = add(as_user(eddie), design, kind="substitution", position="1,101", bases="ac")
    assert response.status_code == 302
    saved = current(design)
    assert saved.edit_list() == [Edit("substitution", 100, 102, "AC")]
    assert saved.version == 2 and saved.updated_by == eddie
    assert saved.edited_sequence() == reference[1000:1100] + "AC" + reference[1102:2000]
    version = saved.versions.get(number=2)
    assert version.created_by == eddie and version.message == "substitution II:1,101-1,102"


def test_an_insertion_goes_before_the_position(as_user, eddie, design, reference):
    add(as_user(eddie), design, kind="insertion", position="1001", bases="GGG", label="mine")
    saved = current(design)
    assert saved.edit_list() == [Edit("insertion", 0, 0, "GGG", "mine")]
    assert saved.edited_sequence() == "GGG" + reference[1000:2000]


def test_a_deletion_spans_position_to_end_position(as_user, eddie, design, reference):
    add(as_user(eddie), design, kind="deletion", position="1,996", end_position="2,000")
    saved = current(design)
    assert saved.edit_list() == [Edit("deletion", 995, 1000)]
    assert saved.edited_sequence() == reference[1000:1995]


def test_a_one_base_deletion_needs_no_end_position(as_user, eddie, design):
    add(as_user(eddie), design, kind="deletion", position="1500", bases="")
    assert current(design).edit_list() == [Edit("deletion", 499, 500)]


def test_a_replacement_changes_the_length(as_user, eddie, design, reference):
    add(as_user(eddie), design, kind="replacement", position="1011", end_position="1020", bases="T")
    saved = current(design)
    assert saved.edit_list() == [Edit("replacement", 10, 20, "T")]
    assert len(saved.edited_sequence()) == 991


def test_removing_an_edit_saves_a_version(as_user, eddie, design):
    client = as_user(eddie)
    add(client, design, kind="insertion", position="1100", bases="A")
    add(client, current(design), kind="deletion", position="1200")
    design = current(design)
    response = client.post(url("gw-design-edit-remove", design, index=0), {"version": 3})
    assert response.status_code == 302
    saved = current(design)
    assert saved.edit_list() == [Edit("deletion", 199, 200)]
    assert saved.version == 4
    assert saved.versions.get(number=4).message == "Removed insertion before II:1,100"


def test_removing_a_missing_edit_is_404(as_user, eddie, design):
    response = as_user(eddie).post(url("gw-design-edit-remove", design, index=3), {"version": 1})
    assert response.status_code == 404


@pytest.mark.parametrize(
    "fields, message",
    [
        (
            {"kind": "substitution", "position": "900", "bases": "A"},
            "The substitution at II:900 is outside the design window II:1,001-2,000",
        ),
        ({"kind": "insertion", "position": "1,200", "bases": "ACXT"}, "contain &#x27;X&#x27;"),
        ({"kind": "insertion", "position": "12a", "bases": "A"}, "is not a position"),
        ({"kind": "insertion", "position": "1200", "bases": ""}, "Type the bases of the insertion"),
        (
            {"kind": "deletion", "position": "1,300", "end_position": "1,250"},
            "The deletion at II:1,300 ends before it starts",
        ),
    ],
)
def test_bad_input_is_explained(as_user, eddie, design, fields, message):
    response = add(as_user(eddie), design, **fields)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert current(design).version == 1


def test_an_edit_overlapping_another_is_refused(as_user, eddie, design):
    client = as_user(eddie)
    add(client, design, kind="deletion", position="1,100", end_position="1,110")
    response = add(client, current(design), kind="substitution", position="1,105", bases="A")
    assert response.status_code == 400
    assert "The substitution at II:1,105 overlaps the deletion at II:1,100-1,110" in (
        response.content.decode()
    )
    assert len(current(design).edits) == 1


def test_the_form_is_prefilled_from_a_motif_link(as_user, eddie, design):
    response = as_user(eddie).get(
        url("gw-design", design), {"kind": "insertion", "bases": "CGGA", "label": "GAL4 (X)"}
    )
    html = response.content.decode()
    assert 'value="CGGA"' in html and 'value="GAL4 (X)"' in html


def test_the_diff_shows_each_change_with_context(as_user, eddie, design, reference):
    client = as_user(eddie)
    add(client, design, kind="insertion", position="1,101", bases="GGGG", label="GAL4 (MA0299.1)")
    add(client, current(design), kind="deletion", position="1,201", end_position="1,203")
    html = client.get(url("gw-design", design)).content.decode()
    assert '<mark class="alt">GGGG</mark>' in html
    assert '<mark class="ref">----</mark>' in html  # the gap opposite an insertion
    assert reference[1090:1100] in html  # the flank before it
    assert f'<mark class="ref">{reference[1200:1203]}</mark>' in html
    assert "GAL4 (MA0299.1)" in html


def test_the_map_states_the_shift_and_the_insertion(as_user, eddie, design):
    client = as_user(eddie)
    add(client, design, kind="insertion", position="1,101", bases="GGGG", label="GAL4 (MA0299.1)")
    html = client.get(url("gw-design", design)).content.decode()
    assert "<td>1-100</td>" in html and "<td>II:1,001-1,100</td>" in html
    assert "<td>101-104</td>" in html and "not in the reference" in html
    assert "<td>105-1,004</td>" in html and "<td>II:1,101-2,000</td>" in html
    assert '<td class="num">+4</td>' in html


def test_position_lookups_answer_in_words(as_user, eddie, design):
    client = as_user(eddie)
    add(client, design, kind="insertion", position="1,101", bases="GGGG")
    page = url("gw-design", design)
    answer = client.get(page, {"edited": "106"}, HTTP_HX_REQUEST="true").content.decode()
    assert "Edited position 106 = reference II:1,102." in answer and "<html" not in answer
    inserted = client.get(page, {"edited": "102"}).content.decode()
    assert "Edited position 102 is a new base" in inserted
    backward = client.get(page, {"reference": "II:1,102"}).content.decode()
    assert "Reference II:1,102 = edited position 106." in backward
    outside = client.get(page, {"reference": "5"}).content.decode()
    assert "Reference II:5 is outside the design window" in outside


def test_a_pasted_fasta_replaces_the_edits(as_user, eddie, design, reference):
    client = as_user(eddie)
    add(client, design, kind="deletion", position="1,500")
    window = reference[1000:2000]
    pasted = window[:300] + "TTTTT" + window[300:]
    fasta = ">edited\n" + "\n".join(pasted[i : i + 60].lower() for i in range(0, len(pasted), 60))
    response = client.post(url("gw-design-paste", design), {"version": 2, "fasta": fasta})
    assert response.status_code == 302
    saved = current(design)
    assert saved.edited_sequence() == pasted
    assert len(saved.edits) == 1 and saved.edits[0]["label"] == "pasted sequence"
    assert saved.versions.get(number=3).message == "Pasted a sequence of 1,005 bp"


def test_a_bad_paste_names_the_character_and_keeps_the_design(as_user, eddie, design):
    response = as_user(eddie).post(
        url("gw-design-paste", design), {"version": 1, "fasta": ">x\nACGT\nAC-GT\n"}
    )
    assert response.status_code == 400
    assert "Line 3, column 3 has &#x27;-&#x27;, which is not a base" in response.content.decode()
    assert current(design).version == 1


def test_a_paste_of_two_records_is_refused(as_user, eddie, design):
    response = as_user(eddie).post(
        url("gw-design-paste", design), {"version": 1, "fasta": ">a\nACGT\n>b\nACGT\n"}
    )
    assert response.status_code == 400
    assert "paste a single FASTA record" in response.content.decode()


def test_the_fasta_download_has_the_edited_sequence(as_user, victor, design, reference):
    design.save_edits([Edit("deletion", 0, 10)], expected_version=1, user=None)
    response = as_user(victor).get(url("gw-design-fasta", design))
    assert response["Content-Disposition"] == 'attachment; filename="test-design-v2.fa"'
    lines = response.content.decode().splitlines()
    assert lines[0].startswith(">test-design II:1,001-2,000 mini version 2")
    assert "".join(lines[1:]) == reference[1010:2000]
    assert max(len(line) for line in lines[1:]) == 60
