"""The results table's search box, region aliases, empty-table reasons, sort links and
clickable histogram (the job of tests/variants/conftest.py: SEARCHABLE's rows, in order)."""

import html
import re
from urllib.parse import parse_qs, parse_qsl

import pytest
from django.http import QueryDict
from django.urls import reverse

from genomeweb.variants.table import FIRST_DIRECTION, EffectFilters, sort_links
from tests.variants.conftest import SEARCHABLE


def table(client, job, **params) -> str:
    url = reverse("gw-effects", kwargs={"code": job.code})
    response = client.get(url, params, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def shown(body: str, job) -> list[int]:
    """The SEARCHABLE indices of the rows a table fragment lists."""
    effects = {e.pk: e.variant.index for e in job.variant_effects.select_related("variant")}
    ids = re.findall(rf"/jobs/{job.code}/effects/(\d+)/", body)
    return sorted(effects[int(i)] for i in ids)


def ident_of(index: int) -> str:
    return SEARCHABLE[index][4]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("GAL10_up40", [3]),
        ("gal10_UP40", [3]),  # IDs in any case
        ("rs1234", [0]),
        ("rs55", [4]),  # the first of a VCF list of IDs
        ("other_id", [4]),  # the last
        ("II:300 T>C", [3]),
        ("chrII:300 T>C", [3]),
        ("chrII:g.300T>G", [4]),
        ("II-300-T-G", [4]),
        ("II:300", [3, 4]),
        ("II:1,500 ACG>A", [5]),
        ("chrI:1-2,000", [0, 1]),
        ("I:100-3,000", [0, 1, 2]),
        ("PAU8", [1]),  # a gene scored near the variant, by name
        ("yal068c", [1]),  # or by ID
        ("chrII", [3, 4, 5]),  # a contig's alias
    ],
)
def test_the_search_box_finds_each_kind_of_query(as_user, victor, search_job, q, expected):
    assert shown(table(as_user(victor), search_job, q=q), search_job) == expected


def test_the_region_filter_accepts_the_genomes_contig_aliases(as_user, victor, search_job):
    client = as_user(victor)
    for region in ("II:1-400", "chrII:1-400", "chrII:g.1_400"):
        assert shown(table(client, search_job, region=region), search_job) == [3, 4]
    assert shown(table(client, search_job, region="chrI"), search_job) == [0, 1, 2]
    assert shown(table(client, search_job, region="chrII:300"), search_job) == [3, 4]


def test_search_and_filters_narrow_together(as_user, victor, search_job):
    client = as_user(victor)
    assert shown(table(client, search_job, q="chrII", kind="indel"), search_job) == [5]
    assert shown(table(client, search_job, q="II:300", min_abs="0.5"), search_job) == [3]


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        (
            {"q": "GAL10_up41"},
            "No variant with ID 'GAL10_up41' in this job, and no gene of that name or ID was "
            "scored in it.",
        ),
        ({"q": "rs999"}, "No variant with ID 'rs999' in this job."),
        ({"q": "chrII:300 T>A"}, "No allele II:300 T>A in this job (at II:300: T>C, T>G)."),
        ({"q": "II:301"}, "No allele of this job lies at II:301."),
        ({"region": "chrII:270,000-290,000"}, "No allele of this job lies in II:270,000-290,000."),
        ({"q": "I:5,000-6,000"}, "No allele of this job lies in I:5,000-6,000."),
        (
            {"gene": "GAL10_up40"},
            "No gene named 'GAL10_up40' was scored in this job: 'GAL10_up40' is a variant's ID; "
            "search for it instead.",
        ),
        ({"gene": "HIS3"}, "No gene named 'HIS3' was scored in this job."),
        # the search finds GAL10_up40 and the type filter finds indels: only both are empty
        ({"q": "GAL10_up40", "kind": "indel"}, "No allele matches these filters."),
    ],
)
def test_an_empty_table_says_why(as_user, victor, search_job, params, reason):
    body = table(as_user(victor), search_job, **params)
    assert "0 alleles" in body and reason in body


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"q": "chrZZ:1-10"}, "chrZZ is not a contig of mini (contigs: I, II)"),
        ({"region": "chrZZ"}, "chrZZ is not a contig of mini (contigs: I, II)"),
        ({"region": "II:300 T>C"}, "is not a region like II:1,000-2,000"),
        ({"q": "II:2,000-1,000"}, "ends before it starts"),
    ],
)
def test_text_that_cannot_be_searched_lists_nothing_and_says_why(
    as_user, victor, search_job, params, error
):
    body = table(as_user(victor), search_job, **params)
    assert '<p class="error">' in body and error in body
    assert "0 alleles" in body and shown(body, search_job) == []


def sort_hrefs(body: str) -> dict[str, str]:
    """The thead's sort links by column: the query strings after '?'."""
    thead = body.split("<thead>")[1].split("</thead>")[0]
    return {parse_qs(query)["sort"][0]: query for query in re.findall(r'href="\?([^"]*)"', thead)}


def test_sort_links_carry_each_parameter_once_however_often_they_are_followed(
    as_user, victor, search_job
):
    client = as_user(victor)
    params = {"q": "chrII", "gene": "", "sort": "position", "dir": "asc", "page": "1"}
    for _ in range(3):  # follow the position link again and again: nothing piles up
        links = sort_hrefs(table(client, search_job, **params))
        assert set(links) == set(FIRST_DIRECTION)  # every sortable column
        for query in links.values():
            names = [name for name, _ in parse_qsl(query, keep_blank_values=True)]
            assert sorted(names) == ["dir", "q", "sort"]  # no page, no empty gene
        params = dict(parse_qsl(links["position"]))
        assert params["q"] == "chrII"


def test_a_column_link_reverses_only_the_sorted_column():
    filters = EffectFilters(sort="position", descending=False)
    links = sort_links(QueryDict("sort=position&dir=asc&q=II&page=3&kind="), filters)
    assert links["position"] == {"query": "q=II&sort=position&dir=desc", "arrow": "▲"}
    assert links["score"] == {"query": "q=II&sort=score&dir=desc", "arrow": ""}
    assert links["gene"]["query"] == "q=II&sort=gene&dir=asc"


def histogram_bars(body: str) -> list[tuple[str, int]]:
    """Each linked bar's query string and the count its tooltip gives."""
    return [
        (query, int(count))
        for query, count in re.findall(
            r'<a href="\?([^"]*)"><title>[^<]*alleles: (\d+)</title>', body
        )
    ]


def test_each_histogram_bar_lists_the_alleles_it_counts(as_user, victor, search_job):
    client = as_user(victor)
    body = table(client, search_job, kind="snv")  # every scored allele (the indel is not)
    bars = histogram_bars(body)
    assert sum(count for _, count in bars) == 5
    listed = []
    for query, count in bars:
        assert dict(parse_qsl(query))["kind"] == "snv"  # the filters shown stay on
        rows = shown(table(client, search_job, **dict(parse_qsl(query))), search_job)
        assert len(rows) == count
        listed += rows
    assert sorted(listed) == [0, 1, 2, 3, 4]


def test_a_bars_range_is_kept_by_the_form_and_can_be_cleared(as_user, victor, search_job):
    client = as_user(victor)
    url = reverse("gw-effects", kwargs={"code": search_job.code})
    page = html.unescape(client.get(url, {"primary_from": "0.2"}).content.decode())
    assert '<input type="hidden" name="primary_from" value="0.2">' in page
    assert shown(page, search_job) == [0, 4]
    clear = re.search(r'<a href="\?([^"]*)">all values</a>', page)
    assert clear is not None and "primary_from" not in clear[1]


def test_the_histogram_has_a_count_axis_and_names_what_it_plots(as_user, victor, search_job):
    client = as_user(victor)
    body = table(client, search_job)
    peak = max(count for _, count in histogram_bars(body))
    axis = re.search(r'class="muted y-axis"[^>]*><span>(\d+)</span><span>alleles</span>', body)
    assert axis is not None and int(axis[1]) == peak
    assert "Distribution of logSED" in body and "ranks by" not in body
    by_d2 = table(client, search_job, scorer="D2")
    assert "Distribution of logSED" in by_d2 and "(the table ranks by |D2|)" in by_d2


def test_the_search_and_bar_range_key_the_cached_histogram():
    plain = EffectFilters()
    assert EffectFilters(q="II").cache_key("j") != plain.cache_key("j")
    assert EffectFilters(primary_from=0.1).cache_key("j") != plain.cache_key("j")
    assert EffectFilters(primary_to=0.1).cache_key("j") != plain.cache_key("j")


def test_a_bad_bar_range_is_an_error_not_a_crash(as_user, victor, search_job):
    body = table(as_user(victor), search_job, primary_to="lots")
    assert "'lots' is not a number" in body


def test_outsiders_cannot_search_a_jobs_table(as_user, bob, search_job):
    url = reverse("gw-effects", kwargs={"code": search_job.code})
    assert as_user(bob).get(url, {"q": "GAL10_up40"}).status_code == 404


def test_the_page_links_stay_clean(as_user, victor, search_job, monkeypatch):
    monkeypatch.setattr("genomeweb.variants.views.PAGE_SIZE", 2)
    body = table(as_user(victor), search_job, q="chrI", page="1", sort="position", dir="asc")
    pager = re.search(r'<p class="pager">.*?</p>', body, re.S)[0]
    for query in re.findall(r'href="\?([^"]*)"', pager):
        names = [name for name, _ in parse_qsl(query)]
        assert names.count("page") == 1 and names.count("sort") == 1
