#!/usr/bin/env python3
"""Score a VCF through genomeweb's JSON API and print the 10 strongest effects.

Standard library only. Against the demo (scripts/demo.sh), after creating a token under
"API tokens" (top bar) as the demo user:

    GW_TOKEN=gw_... python3 scripts/api_example.py

Options: --url, --workspace, --vcf, --genome, --model, --tracks (see --help).
"""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path


class Api:
    def __init__(self, url: str, token: str) -> None:
        self.base, self.token = url.rstrip("/") + "/api/v1", token

    def call(self, method: str, path: str, body=None, *, data=None, content_type=None):
        headers = {"Authorization": f"Bearer {self.token}"}
        if body is not None:
            data, content_type = json.dumps(body).encode(), "application/json"
        if content_type:
            headers["Content-Type"] = content_type
        request = urllib.request.Request(self.base + path, data, headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:  # the API explains every error in JSON
            sys.exit(f"{method} {path}: HTTP {error.code}: {error.read().decode()}")

    def upload(self, workspace: str, vcf: Path, genome: str) -> dict:
        """multipart/form-data by hand: the file and its form fields."""
        boundary = uuid.uuid4().hex
        fields = {"genome": genome, "name": f"{vcf.name} (API example)"}
        head = "".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in fields.items()
        )
        head += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="vcf"; '
            f'filename="{vcf.name}"\r\nContent-Type: text/plain\r\n\r\n'
        )
        data = head.encode() + vcf.read_bytes() + f"\r\n--{boundary}--\r\n".encode()
        content_type = f"multipart/form-data; boundary={boundary}"
        path = f"/workspaces/{workspace}/variant-sets"
        return self.call("POST", path, data=data, content_type=content_type)

    def wait(self, job: dict) -> dict:
        """Poll the job until it is final; stop if it did not succeed."""
        while not job["is_final"]:
            time.sleep(2)
            job = self.call("GET", f"/jobs/{job['code']}")
        if job["status"] != "succeeded":
            sys.exit(f"The {job['kind']} job {job['status']}: {job['error']}")
        return job


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.getenv("GW_URL", "http://127.0.0.1:8000"))
    parser.add_argument("--token", default=os.getenv("GW_TOKEN"), help="default: $GW_TOKEN")
    parser.add_argument("--workspace", default="Demo lab")
    parser.add_argument("--vcf", type=Path, default=Path("data/yeast/demo_variants.vcf"))
    parser.add_argument("--genome", default="sacCer3")
    parser.add_argument("--model", default="yeast-demo")
    parser.add_argument(
        "--tracks", nargs="+", default=["stripeseq_S288C_WT_1.plus", "stripeseq_S288C_WT_1.minus"]
    )
    args = parser.parse_args()
    if not args.token:
        sys.exit("Give a token: --token gw_... or GW_TOKEN (create one under 'API tokens').")
    api = Api(args.url, args.token)

    workspaces = {w["name"]: w["code"] for w in api.call("GET", "/workspaces")}
    variant_set = api.upload(workspaces[args.workspace], args.vcf, args.genome)
    api.wait(variant_set["validation_job"])
    variant_set = api.call("GET", f"/variant-sets/{variant_set['code']}")
    print(f"{variant_set['accepted']} variants accepted, {variant_set['rejected']} rejected")

    scoring = {"model": args.model, "tracks": args.tracks, "scorers": ["logSED", "SUM"]}
    job = api.wait(api.call("POST", f"/variant-sets/{variant_set['code']}/score", scoring))
    results = api.call("GET", f"/jobs/{job['code']}/results")  # strongest first
    print(f"Top 10 of {results['count']} alleles by |logSED|:")
    for effect in results["items"][:10]:
        variant = f"{effect['chrom']}:{effect['pos']} {effect['ref']}>{effect['alt']}"
        score = "unscored" if effect["primary"] is None else f"{effect['primary']:+.4f}"
        print(f"{variant:<22} {effect['ident']:<14} logSED {score}  {effect['top_track']}")


if __name__ == "__main__":
    main()
