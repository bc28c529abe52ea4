"""The README's demo command, end to end: the embedded default (SQLite + filesystem broker) with
a real worker process, driven by a new user in a real browser."""

import json
import time
import zipfile
from pathlib import Path

import pyBigWig
import pysam
import pytest

from engine.io.files import sha256_file
from tests.browser.conftest import ARTIFACTS
from tests.conftest import open_offline_page

ROOT = Path(__file__).resolve().parents[2]
DEMO_VCF = ROOT / "data" / "yeast" / "demo_variants.vcf"
PASSWORD = "a-long-unusual-passphrase-42"


@pytest.mark.slow
@pytest.mark.browser
def test_a_new_user_uploads_a_vcf_and_reads_the_report(demo_site, browser_page):
    url, log = demo_site
    page = browser_page
    assert "Log in as  demo / genomeweb-demo" in log.read_text()

    page.goto(f"{url}/accounts/signup/")
    page.fill("#id_username", "newlab")
    page.fill("#id_password1", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")

    page.fill("#id_name", "Promoter variants")
    page.click("text=Create workspace")
    page.wait_for_selector("h1:has-text('Promoter variants')")

    page.click("text=Upload a VCF")
    page.set_input_files("input[type=file]", str(DEMO_VCF))
    page.click("text=Upload and validate")
    page.wait_for_selector("text=Validation report", timeout=90_000)  # htmx polls the job

    counts = page.inner_text(".counts")
    assert "50\naccepted" in counts and "1\nskipped" in counts and "2\nrejected" in counts
    issues = page.inner_text("table.issues")
    assert "REF is T but the genome has C at VI:54,736" in issues
    assert "contig 'chrXVII' is not in this genome" in issues
    assert "chrVI → VI" in page.inner_text("#report")
    page.screenshot(path=str(ARTIFACTS / "demo-validation-report.png"), full_page=True)

    with page.expect_download() as download:  # a result file, behind the access check
        page.click("text=normalized.vcf.gz")
    assert download.value.suggested_filename == "normalized.vcf.gz"
    assert page.outside_requests == []


def log_in_to_the_demo_lab(page, url: str) -> None:
    """As the demo user (scripts/demo.sh prints its password), into its workspace."""
    page.goto(f"{url}/accounts/login/")
    page.fill("#id_username", "demo")
    page.fill("#id_password", "genomeweb-demo")
    page.click("button[type=submit]")
    page.click("text=Demo lab")


def spinners_visible(page) -> int:
    return page.locator(".igv-loading-spinner-container:visible").count()


@pytest.mark.slow
@pytest.mark.browser
def test_scoring_then_a_variant_in_igv(demo_site, browser_page):
    """Upload, score with the demo model, open the strongest variant, draw it in igv.js."""
    url, _ = demo_site
    page = browser_page
    upload_and_score_the_demo_vcf(page, url)
    page.screenshot(path=str(ARTIFACTS / "variant-effects-table.png"), full_page=True)
    downloaded = {}
    for name in ("annotated.vcf.gz", "scores.tsv"):
        with page.expect_download() as download:
            page.click(f"ul.files a:text-is('{name}')")
        assert download.value.suggested_filename == name
        downloaded[name] = download.value.path()
    vcf = pysam.VariantFile(str(downloaded["annotated.vcf.gz"]))
    assert "GW_logSED" in vcf.header.info
    assert sum("GW_logSED" in record.info for record in vcf) == 50
    header = Path(downloaded["scores.tsv"]).read_text().splitlines()[0].split("\t")
    assert header[:6] == ["chrom", "pos", "ref", "alt", "id", "track"]

    page.click("table.effects tbody a >> nth=0")  # sorted by |logSED|: the strongest first
    page.click("text=Predict these tracks around the variant")
    # The page polls the prediction job and reloads when it is done; then igv.js draws it.
    wait_for_igv_tracks(page, "t => t.type === 'merged'")
    assert page.evaluate("() => window.gwBrowser.findTracks(t => t.type === 'merged').length") == 2
    page.screenshot(path=str(ARTIFACTS / "variant-igv.png"), full_page=True)

    # Mark it and leave a note (htmx swaps the section in place), then filter the table by it.
    variant_page = page.url
    page.click("#annotations button.mark:text-is('Interesting')")
    page.wait_for_selector("#annotations button.mark.on:text-is('Interesting')")
    page.fill("#annotations textarea", "Check the <b>TATA</b> box by hand")
    page.click("#annotations button:text-is('Add note')")
    page.wait_for_selector("#annotations li:has-text('Check the <b>TATA</b> box by hand')")
    page.locator("#annotations").screenshot(path=str(ARTIFACTS / "variant-notes.png"))
    page.goto(variant_page.split("/effects/")[0] + "/effects/?mark=interesting")
    assert "1 allele" in page.inner_text("#results")

    # The strongest SNV, explained by ISM on both alleles side by side.
    page.goto(page.url.split("/effects/")[0] + "/effects/?kind=snv")
    page.click("table.effects tbody a >> nth=0")
    page.select_option("#id_method", "ism")
    page.fill("#id_width", "48")
    page.click("text=Explain both alleles")
    wait_for_igv_tracks(page, "t => t.type === 'seg'")
    seg_names = page.evaluate(
        "() => window.gwBrowser.findTracks(t => t.type === 'seg').map(t => t.name)"
    )
    assert [name.split(":")[0] for name in seg_names] == ["Reference", "Alternative"]
    assert page.locator("img.figure").count() == 2
    assert page.evaluate(
        "() => [...document.querySelectorAll('img.figure')].every(i => i.naturalWidth > 0)"
    )
    assert "alt − ref" in page.inner_text("body")
    page.screenshot(path=str(ARTIFACTS / "variant-alleles-ism.png"), full_page=True)
    assert page.outside_requests == []


def upload_and_score_the_demo_vcf(page, url: str) -> None:
    """As the demo user: upload, validate, score with the demo model; end on the results."""
    log_in_to_the_demo_lab(page, url)
    page.click("text=Upload a VCF")
    page.set_input_files("input[type=file]", str(DEMO_VCF))
    page.click("text=Upload and validate")
    page.wait_for_selector("text=Validation report", timeout=90_000)
    page.click("text=Score variant effects")
    page.wait_for_selector("#estimate strong")  # the cost is shown before launch
    page.click("text=Start scoring")
    page.wait_for_selector("table.effects tbody a", timeout=240_000)
    assert "50 alleles" in page.inner_text("#results")


@pytest.mark.slow
@pytest.mark.browser
def test_a_demo_bundle_opens_in_the_usual_tools_and_its_report_offline(
    demo_site, browser_page, tmp_path
):
    """Build a scoring job's bundle, download it, open its files, read the report with the
    network off."""
    url, _ = demo_site
    page = browser_page
    upload_and_score_the_demo_vcf(page, url)
    page.fill("#id_report_top", "10")
    page.click("text=Build the bundle")
    link = page.wait_for_selector("text=Download bundle", timeout=240_000)
    page.locator("#bundle").screenshot(path=str(ARTIFACTS / "bundle-card.png"))
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.startswith("genomeweb-score_variants-")
    with zipfile.ZipFile(download.value.path()) as bundle:
        bundle.extractall(tmp_path)
        names = bundle.namelist()
    assert "README.txt" in names and "inputs/demo_variants.vcf" in names
    records = list(pysam.VariantFile(str(tmp_path / "outputs" / "annotated.vcf.gz")))
    assert sum("GW_logSED" in record.info for record in records) == 50
    tracks = sorted((tmp_path / "report_tracks").glob("*.bw"))
    assert len(tracks) == 2 * 10  # reference and alternative of the top 10
    with pyBigWig.open(str(tracks[0])) as bigwig:
        assert bigwig.isBigWig() and bigwig.header()["nBasesCovered"] > 0
    provenance = json.loads((tmp_path / "provenance.json").read_text())
    weights = ROOT / "data" / "models" / "yeast-demo" / "model.safetensors"
    assert provenance["model"]["replicates"][0]["sha256"] == sha256_file(weights)
    assert provenance["genome"]["fasta_sha256"] == sha256_file(
        ROOT / "data" / "yeast" / "sacCer3.fa.gz"
    )
    assert page.outside_requests == []

    offline = open_offline_page(page.context.browser)
    offline.goto((tmp_path / "report.html").as_uri())
    offline.wait_for_selector("body[data-igv-ready]", timeout=30_000)
    assert offline.locator("#variant_table tbody tr").count() == 10
    offline.locator("#variant_table tbody tr").nth(0).click()
    offline.wait_for_function(
        "() => igvBrowser.findTracks(t => t.name === 'predicted alternative').length === 1"
    )
    deadline = time.monotonic() + 30
    while offline.locator(".igv-loading-spinner-container:visible").count():
        assert time.monotonic() < deadline
        offline.wait_for_timeout(200)
    offline.screenshot(path=str(ARTIFACTS / "demo-bundle-report.png"), full_page=True)
    assert offline.outside_requests == [] and offline.errors == []


def wait_for_igv_tracks(page, predicate: str, timeout: int = 180_000) -> None:
    """Until the page's igv.js browser holds tracks matching ``predicate`` and has drawn."""
    page.wait_for_function(
        f"() => window.gwBrowser && window.gwBrowser.findTracks({predicate}).length > 0",
        timeout=timeout,
    )
    page.wait_for_timeout(500)
    deadline = time.monotonic() + 60
    while spinners_visible(page) and time.monotonic() < deadline:
        page.wait_for_timeout(250)
    assert spinners_visible(page) == 0


@pytest.mark.slow
@pytest.mark.browser
def test_ism_and_saliency_of_a_promoter_in_igv(demo_site, browser_page):
    """Explain HIS3's predicted TSS signal: ISM of 48 bp at its start, then saliency."""
    url, _ = demo_site
    page = browser_page
    log_in_to_the_demo_lab(page, url)

    page.click("text=Explain a prediction")
    page.fill("#id_region", "XV:721,696-721,887")  # HIS3's promoter, its TATA box included
    page.fill("#id_objective_gene", "HIS3")
    # the cost is shown before launch: (3 × 192 + 1) × 2 passes with the reverse complement
    page.wait_for_function(
        "() => document.querySelector('#estimate').innerText.startsWith('1154 forward passes')"
    )
    page.get_by_role("button", name="Start", exact=True).click()
    page.click("text=Open the results")
    wait_for_igv_tracks(page, "t => t.type === 'seg'")
    assert "Substitutions that lower the objective most" in page.inner_text("body")
    assert page.evaluate("() => document.querySelector('#ism-figure').naturalWidth") > 1000
    motif_rows = page.locator("table.motifs tbody tr").count()
    drawn = page.evaluate(
        "() => window.gwBrowser.findTracks(t => (t.name || '').startsWith('Motifs'))[0]"
        ".config.features.length"
    )
    assert motif_rows > 0 and drawn == motif_rows
    page.locator("#ism-figure").screenshot(path=str(ARTIFACTS / "ism-figure.png"))
    page.screenshot(path=str(ARTIFACTS / "ism-igv.png"), full_page=True)

    page.goto(f"{url}/")
    page.click("text=Demo lab")
    page.click("text=Explain a prediction")
    page.select_option("#id_method", "saliency")
    page.fill("#id_gene", "HIS3")
    page.get_by_role("button", name="Start", exact=True).click()
    page.click("text=Open the results")
    wait_for_igv_tracks(page, "t => t.config && t.config.graphType === 'dynseq'")
    assert "Run ISM on this stretch" in page.inner_text("body")
    page.screenshot(path=str(ARTIFACTS / "saliency-igv.png"), full_page=True)
    assert page.outside_requests == []


@pytest.mark.slow
@pytest.mark.browser
def test_deleting_a_tata_box_in_a_design_and_seeing_the_prediction(demo_site, browser_page):
    """The issue's story: edit a yeast promoter (HIS3's TATA box, XV:721,876-721,883) and see
    the predicted TSS coverage change in igv.js."""
    url, _ = demo_site
    page = browser_page
    log_in_to_the_demo_lab(page, url)

    page.click("text=New design")
    page.fill("#id_gene", "HIS3")
    page.check("input[name=gene_id][value=YOR202W]")  # search as you type offers it
    page.get_by_role("button", name="Create the design").click()
    page.wait_for_selector("text=Add an edit")

    form = page.locator("#add-edit form").first
    form.locator("select[name=kind]").select_option("deletion")
    form.locator("input[name=position]").fill("721,876")
    form.locator("input[name=end_position]").fill("721,883")
    form.locator("input[name=label]").fill("TATA box")
    form.get_by_role("button", name="Save the edit").click()
    page.wait_for_selector("text=Predict version 2")
    assert "-8 bp against the reference" in page.inner_text("body")

    page.get_by_role("button", name="Predict version 2").click()
    wait_for_igv_tracks(page, "t => t.type === 'merged'")
    body = page.inner_text("#prediction")
    assert "Per track" in body and "change the length by -8 bp" in body
    page.screenshot(path=str(ARTIFACTS / "design-tata-deletion.png"), full_page=True)
    assert page.outside_requests == []


@pytest.mark.slow
@pytest.mark.browser
def test_clicking_an_attention_row_draws_its_links_in_igv(demo_site, browser_page):
    url, _ = demo_site
    page = browser_page
    log_in_to_the_demo_lab(page, url)
    page.click("text=Explain a prediction")
    page.select_option("#id_method", "attention")
    page.fill("#id_gene", "HIS3")
    page.fill("#id_layer", "3")
    page.get_by_role("button", name="Start", exact=True).click()
    page.click("text=Open the results")
    page.wait_for_selector("#attention-heatmap g.row", timeout=120_000)
    page.wait_for_function("() => window.gwBrowser !== undefined", timeout=60_000)
    locus = (
        "() => { const f = window.gwBrowser.referenceFrameList[0];"
        " return `${f.chr}:${Math.round(f.start)}-${Math.round(f.end)}`; }"
    )
    locus_before = page.evaluate(locus)
    page.click('#attention-heatmap g.row[data-row="32"] rect.hit')
    page.wait_for_function(
        "() => document.getElementById('attention-heatmap').dataset.selected === '32'"
    )
    wait_for_igv_tracks(page, "t => t.type === 'interact'")
    assert page.evaluate(locus) != locus_before  # the browser followed the click
    page.screenshot(path=str(ARTIFACTS / "attention-linked.png"), full_page=True)
    assert page.outside_requests == []
