"""Two members editing one design: the second save gets a conflict, never a silent overwrite."""

import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from engine.designs.edits import Edit
from genomeweb.designs.models import Design


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def add_url(design: Design) -> str:
    return reverse("gw-design-edit-add", kwargs={"code": design.code})


def test_the_second_save_from_the_same_version_gets_409(alice, eddie, design):
    first, second = logged_in(alice), logged_in(eddie)
    # Both pages were rendered at version 1.
    assert 'name="version" value="1"' in first.get(f"/designs/{design.code}/").content.decode()
    assert 'name="version" value="1"' in second.get(f"/designs/{design.code}/").content.decode()
    saved = first.post(
        add_url(design),
        {"version": 1, "kind": "insertion", "position": "1,100", "bases": "GGG", "label": "Gal4"},
    )
    assert saved.status_code == 302
    refused = second.post(
        add_url(design),
        {"version": 1, "kind": "deletion", "position": "1,500", "message": "drop the TATA"},
    )
    assert refused.status_code == 409
    html = refused.content.decode()
    assert "alice saved version 2 at" in html
    assert "while you were editing; your change was not saved" in html
    assert "insertion before II:1,100" in html and "Gal4" in html  # what they changed
    assert 'value="1,500"' in html and 'value="drop the TATA"' in html  # the input is kept
    assert 'name="version" value="2"' in html  # ... to be sent again on top of theirs
    after = Design.objects.get(pk=design.pk)
    assert after.version == 2
    assert after.edit_list() == [Edit("insertion", 99, 99, "GGG", "Gal4")]
    assert after.versions.count() == 2


def test_sending_again_after_a_conflict_applies_on_top(alice, eddie, design):
    first, second = logged_in(alice), logged_in(eddie)
    first.post(
        add_url(design), {"version": 1, "kind": "insertion", "position": "1100", "bases": "G"}
    )
    second.post(add_url(design), {"version": 1, "kind": "deletion", "position": "1500"})
    again = second.post(add_url(design), {"version": 2, "kind": "deletion", "position": "1500"})
    assert again.status_code == 302
    assert [e.kind for e in Design.objects.get(pk=design.pk).edit_list()] == [
        "insertion",
        "deletion",
    ]


def test_a_stale_remove_gets_409(alice, eddie, design):
    design.save_edits([Edit("deletion", 5, 6)], expected_version=1, user=alice)
    design.save_edits(
        [Edit("deletion", 5, 6), Edit("deletion", 9, 10)], expected_version=2, user=alice
    )
    response = logged_in(eddie).post(
        reverse("gw-design-edit-remove", kwargs={"code": design.code, "index": 0}), {"version": 2}
    )
    assert response.status_code == 409
    assert "alice saved version 3" in response.content.decode()
    assert len(Design.objects.get(pk=design.pk).edits) == 2


def test_a_stale_paste_gets_409_and_keeps_the_paste(alice, eddie, design):
    design.save_edits([Edit("deletion", 5, 6)], expected_version=1, user=alice)
    response = logged_in(eddie).post(
        reverse("gw-design-paste", kwargs={"code": design.code}),
        {"version": 1, "fasta": ">mine\nACGTACGTAC"},
    )
    assert response.status_code == 409
    assert "&gt;mine\nACGTACGTAC" in response.content.decode()
    assert Design.objects.get(pk=design.pk).version == 2


def test_save_edits_refuses_a_stale_version_and_changes_nothing(alice, eddie, design):
    stale = Design.objects.get(pk=design.pk)
    assert design.save_edits([Edit("deletion", 0, 1)], expected_version=1, user=alice)
    assert not stale.save_edits([Edit("deletion", 2, 3)], expected_version=1, user=eddie)
    after = Design.objects.get(pk=design.pk)
    assert after.edit_list() == [Edit("deletion", 0, 1)]
    assert list(after.versions.values_list("number", flat=True)) == [2, 1]


def test_save_edits_checks_the_edits_before_writing(alice, design):
    with pytest.raises(ValueError, match="outside the design window II:1,001-2,000"):
        design.save_edits([Edit("deletion", 990, 1010)], expected_version=1, user=alice)
    assert Design.objects.get(pk=design.pk).version == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_from_one_version_store_exactly_one(workspace, predictor, alice):
    """Real concurrent transactions on PostgreSQL: the conditional UPDATE lets one through."""
    from engine.io.intervals import Interval

    design = Design.start_new(
        workspace=workspace, user=alice, predictor=predictor, window=Interval("II", 0, 1000)
    )
    barrier = threading.Barrier(8)
    results = []

    def save(offset: int) -> None:
        try:
            mine = Design.objects.get(pk=design.pk)
            barrier.wait()
            edit = Edit("deletion", offset, offset + 1)
            results.append(mine.save_edits([edit], expected_version=1, user=alice))
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(i * 10,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]
    after = Design.objects.get(pk=design.pk)
    assert after.version == 2 and len(after.edits) == 1
    assert after.versions.count() == 2
