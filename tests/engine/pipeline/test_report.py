"""The offline HTML report (engine/pipeline/report.py): igv-reports sessions, igv.js inlined."""

import base64
import gzip
import html
import json
import re
import time
from pathlib import Path

import numpy as np
import pytest

from engine.designs.edits import DELETION, INSERTION, SUBSTITUTION, Edit
from engine.io.bigwig import read_entries, write_bigwig
from engine.io.intervals import Interval
from engine.pipeline.report import (
    IGV_JS,
    ReportSite,
    ReportTrack,
    write_design_report,
    write_variant_report,
)

DATA = Path(__file__).resolve().parents[2] / "data"
FASTA = DATA / "mini.fa.gz"
SIZES = {"I": 6000, "II": 4000}
FLANK_BP = 500
TRACKS = [
    ReportTrack("observed", "rgb(120,120,120)", "coverage"),
    ReportTrack("predicted ref", "rgb(31,111,235)", "coverage"),
    ReportTrack("predicted alt", "rgb(207,34,46)", "coverage"),
]
COLUMNS = ["logSED", "SAX"]


def per_base(interval: Interval, values) -> tuple[Interval, np.ndarray]:
    return interval, np.asarray(values, dtype=np.float64)


def write_tracks(folder: Path) -> dict[str, Path]:
    """Observed counts at 1 bp over all of I and II; predictions in 32-bp bins over I:0-5,984,
    the alternative a constant 1 bin lower than the reference."""
    rng = np.random.default_rng(0)
    paths = {name: folder / f"{name.replace(' ', '_')}.bw" for name in ("observed", "ref", "alt")}
    observed = [per_base(Interval(c, 0, n), rng.poisson(0.3, n)) for c, n in SIZES.items()]
    write_bigwig(paths["observed"], SIZES, observed)
    ref = np.sin(np.arange(187) / 10) + 2
    write_bigwig(paths["ref"], SIZES, [(Interval("I", 0, 5984), ref)], bin_size=32)
    write_bigwig(paths["alt"], SIZES, [(Interval("I", 0, 5984), ref - 1)], bin_size=32)
    return paths


def three_snvs(paths: dict[str, Path]) -> list[ReportSite]:
    """Two SNVs on I with predictions, one on II with observed coverage only (REF from mini.fa)."""
    predicted = {
        "observed": paths["observed"],
        "predicted ref": paths["ref"],
        "predicted alt": paths["alt"],
    }
    return [
        ReportSite("I", 1999, "T", "C", "snv_first", {"logSED": 0.0123456, "SAX": -1.5}, predicted),
        ReportSite("I", 2500, "A", "G", "snv_second", {"logSED": -0.5, "SAX": 2}, predicted),
        ReportSite(
            "II", 1499, "T", "A", "snv_third", {"logSED": None}, {"observed": paths["observed"]}
        ),
    ]


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    sites = three_snvs(write_tracks(folder))
    out = folder / "report.html"
    return write_variant_report(
        out,
        fasta=FASTA,
        sites=sites,
        tracks=TRACKS,
        columns=COLUMNS,
        annotation=DATA / "mini.gff3",
        title="Top variants <mini>",
        description="3 SNVs of the test genome",
        flank_bp=FLANK_BP,
    )


def decode(uri: str) -> str:
    """The text of igv-reports' gzipped base64 data: URI."""
    header, payload = uri.split(",", 1)
    assert header == "data:application/gzip;base64"
    return gzip.decompress(base64.b64decode(payload)).decode()


def page_constant(page: str, name: str):
    return json.loads(re.search(rf"const {name} = (.*)\n", page).group(1))


def sessions(page: str) -> dict[str, dict]:
    """Each row's igv.js session, with every data: URI decoded to its text."""
    decoded = {}
    for key, uri in page_constant(page, "sessionDictionary").items():
        session = json.loads(decode(uri))
        session["reference"]["fastaURL"] = decode(session["reference"]["fastaURL"])
        for track in session["tracks"]:
            track["url"] = decode(track["url"])
        decoded[key] = session
    return decoded


def track(session: dict, name: str) -> dict:
    return next(t for t in session["tracks"] if t["name"] == name)


def bedgraph(text: str) -> list[tuple[str, int, int, float]]:
    rows = [line.split("\t") for line in text.splitlines()]
    return [(c, int(s), int(e), float(v)) for c, s, e, v in rows]


def test_it_writes_one_page_with_each_site_and_score_column(report: Path) -> None:
    page = report.read_text()
    size = report.stat().st_size
    print(f"report of 3 SNVs: {size:,} bytes (igv.min.js: {IGV_JS.stat().st_size:,})")
    assert size < IGV_JS.stat().st_size + 100_000  # igv.js plus a few kB of data per site
    table = page_constant(page, "tableJson")
    assert table["headers"] == ["unique_id", "CHROM", "POSITION", "REF", "ALT", "ID", *COLUMNS]
    assert table["rows"] == [
        [0, "I", 2000, "T", "C", "snv_first", "0.01235", "-1.5"],
        [1, "I", 2501, "A", "G", "snv_second", "-0.5", "2"],
        [2, "II", 1500, "T", "A", "snv_third", "", ""],
    ]
    assert "<title>Top variants &lt;mini&gt;</title>" in page
    assert set(sessions(page)) == {"0", "1", "2"}


def test_the_page_fetches_nothing_from_outside(report: Path) -> None:
    page = report.read_text()
    script = IGV_JS.read_text()
    assert page.count(script) == 1  # igv.js is inlined whole, once
    rest = page.replace(script, "")
    # igv.js holds URL strings of its optional services; the rest of the page holds none.
    assert "http://" not in rest and "https://" not in rest
    assert not re.search(r"<script[^>]*\bsrc=", page)
    assert not re.search(r"<link\b", page)
    assert "loadDefaultGenomes: false" in rest and "search: false" in rest
    for session in page_constant(page, "sessionDictionary").values():
        config = json.loads(decode(session))
        urls = [config["reference"]["fastaURL"], *(t["url"] for t in config["tracks"])]
        assert all(url.startswith("data:") for url in urls)


def test_each_session_holds_the_sites_reference_genes_and_tracks(report: Path) -> None:
    first, _, third = sessions(report.read_text()).values()
    assert first["locus"] == f"I:{2000 - FLANK_BP}-{2000 + FLANK_BP}"  # centred on POS 2000
    header, bases = first["reference"]["fastaURL"].split("\n")
    start = int(re.fullmatch(r">I:(\d+)-\d+ @len=6000", header).group(1))  # 1-based
    assert bases[2000 - start] == "T"  # the REF base at POS 2000
    assert "\tPAU8\t" in track(first, "Genes")["url"]
    assert [t["name"] for t in first["tracks"]] == ["Genes", *(t.name for t in TRACKS)]
    assert track(first, "predicted alt")["autoscaleGroup"] == "coverage"
    # The site on II has no predictions: genes and observed coverage only.
    assert [t["name"] for t in third["tracks"]] == ["Genes", "observed"]
    assert "\tYBL113C\t" in track(third, "Genes")["url"]


def test_track_slices_are_the_bigwig_entries_around_the_site(report: Path) -> None:
    first = sessions(report.read_text())["0"]
    folder = report.parent
    window = Interval("I", 1999 - FLANK_BP, 2000 + FLANK_BP)
    observed = sorted(bedgraph(track(first, "observed")["url"]))
    expected = [e for e in read_entries(folder / "observed.bw", window) if e[2]]  # zeros left out
    assert [(s, e, v) for _, s, e, v in observed if window.start <= s < window.end] == expected
    alt = sorted(bedgraph(track(first, "predicted alt")["url"]))
    assert {e - s for _, s, e, _ in alt[1:-1]} == {32}  # the model's bins (cut at the ends)
    assert alt[0][1] <= window.start and alt[-1][2] >= window.end


def test_each_site_shows_its_own_predictions_where_flanks_overlap(tmp_path: Path) -> None:
    paths = write_tracks(tmp_path)
    other_alt = tmp_path / "other_alt.bw"
    write_bigwig(other_alt, SIZES, [(Interval("I", 0, 5984), np.full(187, 7.0))], bin_size=32)
    first, second, _ = three_snvs(paths)
    second = ReportSite(
        **(vars(second) | {"bigwigs": second.bigwigs | {"predicted alt": other_alt}})
    )
    out = write_variant_report(
        tmp_path / "r.html", fasta=FASTA, sites=[first, second], tracks=TRACKS, columns=[]
    )
    one, two = sessions(out.read_text()).values()
    assert {v for *_, v in bedgraph(track(two, "predicted alt")["url"])} == {7.0}
    assert 7.0 not in {v for *_, v in bedgraph(track(one, "predicted alt")["url"])}
    assert [t["name"] for t in two["tracks"]] == [t.name for t in TRACKS]


def test_design_report_writes_edits_as_vcf_alleles(tmp_path: Path) -> None:
    paths = write_tracks(tmp_path)
    window = Interval("I", 1000, 3000)
    edits = [
        Edit(SUBSTITUTION, 999, 1000, "C", "TATA"),  # I:2000 T>C
        Edit(INSERTION, 1500, 1500, "GG"),  # before I:2501 (A); anchored on I:2500
        Edit(DELETION, 1800, 1803),
    ]
    bigwigs = {
        "observed": paths["observed"],
        "predicted ref": paths["ref"],
        "predicted alt": paths["alt"],
    }
    out = write_design_report(
        tmp_path / "design.html",
        fasta=FASTA,
        window=window,
        edits=edits,
        tracks=TRACKS,
        bigwigs=bigwigs,
        title="Design",
    )
    page = out.read_text()
    rows = page_constant(page, "tableJson")["rows"]
    anchor = rows[1][3][0]
    assert rows[0][1:] == ["I", 2000, "T", "C", "edit 1", "substitution", "TATA", "0"]
    assert rows[1][2:6] == [2500, anchor, anchor + "GG", "edit 2"]
    assert rows[2][2] == 2800 and len(rows[2][3]) == 4 and len(rows[2][4]) == 1
    assert len(sessions(page)) == 3


HOSTILE = '"></script><!--<script>alert(1)</script><img src=x onerror=alert(2)>&amp;'


def test_user_text_reaches_the_table_as_text_and_cannot_leave_its_script(tmp_path: Path) -> None:
    """VCF IDs and edit labels are user input: the page's JSON holds them unchanged (the page
    sets them as text) and with no <, > or & that could end or change its <script> element."""
    site = ReportSite("I", 1999, "T", "C", HOSTILE, {"logSED": HOSTILE}, {})
    out = write_variant_report(
        tmp_path / "hostile.html",
        fasta=FASTA,
        sites=[site],
        tracks=TRACKS,
        columns=["logSED"],
        title=HOSTILE,
        flank_bp=FLANK_BP,
    )
    page = out.read_text()
    line = re.search(r"const tableJson = (.*)\n", page).group(1)
    assert not set("<>&") & set(line)
    assert json.loads(line)["rows"] == [[0, "I", 2000, "T", "C", HOSTILE, HOSTILE]]
    assert page.count("<script") == 2  # igv.js and the page's own script, nothing planted
    assert f"<h1>{html.escape(HOSTILE)}</h1>" in page


def test_the_same_inputs_a_second_later_give_the_same_bytes(report: Path, tmp_path: Path) -> None:
    """igv-reports stamps gzip headers with the time; a bundle's cache needs equal bytes."""
    time.sleep(1.1)  # past the gzip header's one-second resolution
    again = write_variant_report(
        tmp_path / "again.html",
        fasta=FASTA,
        sites=three_snvs(write_tracks(tmp_path)),
        tracks=TRACKS,
        columns=COLUMNS,
        annotation=DATA / "mini.gff3",
        title="Top variants <mini>",
        description="3 SNVs of the test genome",
        flank_bp=FLANK_BP,
    )
    assert again.read_bytes() == report.read_bytes()


def test_it_rejects_inputs_it_cannot_show(tmp_path: Path) -> None:
    paths = write_tracks(tmp_path)
    site = three_snvs(paths)[0]
    args = {"fasta": FASTA, "tracks": TRACKS, "columns": []}
    with pytest.raises(ValueError, match="at least one site"):
        write_variant_report(tmp_path / "r.html", sites=[], **args)
    with pytest.raises(ValueError, match="unknown tracks"):
        write_variant_report(tmp_path / "r.html", sites=[site], **args | {"tracks": TRACKS[:1]})
    empty = ReportSite("I", 10, "A", "", "x")
    with pytest.raises(ValueError, match="must not be empty"):
        write_variant_report(tmp_path / "r.html", sites=[empty], **args)
    assert not (tmp_path / "r.html").exists()


# --- in a real browser ---------------------------------------------------------------------


# igv.js gives one locus as a string, several as an array.
LOCUS = "[].concat(igvBrowser.currentLoci())[0]"


def wait_for_igv(page) -> None:
    deadline = time.monotonic() + 30
    while page.locator(".igv-loading-spinner-container:visible").count():
        assert time.monotonic() < deadline, "igv.js still loading after 30 s"
        time.sleep(0.2)


def track_names(page) -> list[str]:
    return page.evaluate("() => igvBrowser.findTracks(t => t.name).map(t => t.name)")


@pytest.mark.slow
@pytest.mark.browser
def test_the_report_renders_from_a_file_with_the_network_off(report, offline_page) -> None:
    from tests.browser.conftest import ARTIFACTS

    page = offline_page
    page.goto(report.as_uri())
    page.wait_for_selector("body[data-igv-ready]", timeout=30_000)
    rows = page.locator("#variant_table tbody tr")
    assert rows.count() == 3
    assert "snv_third" in rows.nth(2).inner_text()

    rows.nth(2).click()  # the site on II: observed coverage only
    page.wait_for_function(f"() => {LOCUS}.startsWith('II:')")
    wait_for_igv(page)
    assert track_names(page) == ["Genes", "observed"]

    rows.nth(0).click()
    page.wait_for_function(f"() => {LOCUS} === 'I:1500-2500'")
    wait_for_igv(page)
    assert track_names(page) == ["Genes", "observed", "predicted ref", "predicted alt"]
    assert page.evaluate("() => igvBrowser.findTracks(t => t.type === 'sequence').length") == 1
    page.locator("#igvDiv canvas").first.wait_for()
    page.screenshot(path=str(ARTIFACTS / "offline-report.png"), full_page=True)
    assert page.outside_requests == []
    assert page.file_requests == [report.as_uri()]  # the page itself, nothing beside it
    assert page.errors == []
    # The guard would have seen a request leaving the page.
    page.evaluate("() => fetch('https://example.org/probe').catch(() => null)")
    assert page.outside_requests == ["https://example.org/probe"]
