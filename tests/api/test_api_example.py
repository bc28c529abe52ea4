"""The README's API example, run as a user would: against the demo (scripts/demo.sh, a real
worker and the real yeast-demo model), with a token of the demo user."""

import subprocess
import sys

import pytest

from tests.demo import ROOT, demo_env


def demo_token(var_dir) -> str:
    """As an administrator would without a browser (the page makes the same kind of token)."""
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "python"), "manage.py", "create_api_token", "demo", "test"],
        cwd=ROOT,
        env=demo_env(var_dir),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return result.stdout.strip()


@pytest.mark.slow
def test_the_api_example_scores_the_demo_vcf_and_prints_the_top_10(demo_site, tmp_path):
    url, _ = demo_site
    result = subprocess.run(
        [
            sys.executable,
            "scripts/api_example.py",
            "--url",
            url,
            "--token",
            demo_token(tmp_path / "var"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=480,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "50 variants accepted, 2 rejected"
    assert lines[1] == "Top 10 of 50 alleles by |logSED|:"
    scores = [float(line.split("logSED ")[1].split()[0]) for line in lines[2:]]
    assert len(scores) == 10 and scores[0] != 0
    assert [abs(s) for s in scores] == sorted((abs(s) for s in scores), reverse=True)
