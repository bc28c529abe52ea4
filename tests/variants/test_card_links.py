"""Every score links to the section of the model's card that defines it."""

import re

from django.urls import reverse

from genomeweb.variants.models import VariantEffect


def card_links(page: str) -> set[str]:
    return set(re.findall(r'href="(/models/tiny/#[^"]+)"', page))


def test_scores_on_the_table_the_variant_page_and_the_job_page_link_to_the_card(
    as_user, victor, scored
):
    client = as_user(victor)
    scorers = scored.params["scorers"]  # logSED, SUM, D2
    card = client.get(reverse("gw-model", args=["tiny"])).content.decode()
    defined = {f"/models/tiny/#{anchor}" for anchor in re.findall(r'id="([^"]+)"', card)}

    table = client.get(reverse("gw-effects", kwargs={"code": scored.code})).content.decode()
    expected = {f"/models/tiny/#scorer-{s}" for s in scorers} | {"/models/tiny/#scorer-gene-logSED"}
    assert expected <= card_links(table)

    with_genes = VariantEffect.objects.filter(job=scored, top_gene_log_sed__isnull=False)
    effect = with_genes.order_by("-max_abs").first()
    url = reverse("gw-effect", kwargs={"code": scored.code, "effect_id": effect.pk})
    variant_page = client.get(url).content.decode()
    expected |= {"/models/tiny/#scorer-gene-SED", "/models/tiny/#track-names"}
    assert expected <= card_links(variant_page)

    job_page = client.get(reverse("gw-job", kwargs={"code": scored.code})).content.decode()
    assert {"/models/tiny/#card", "/models/tiny/#scores"} <= card_links(job_page)

    permalink = client.get(reverse("gw-variant", kwargs={"code": effect.variant.code}))
    assert f"/models/tiny/#scorer-{scorers[0]}" in card_links(permalink.content.decode())

    every = card_links(table) | card_links(variant_page) | card_links(job_page)
    assert every <= defined | {"/models/tiny/#card"}  # each link lands on a section
