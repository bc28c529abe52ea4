"""Genomic files in and out, framework-free (no Django, no torch): intervals, FASTA, VCF intake
(a strict streaming reader, then genome checks and normalisation), bigWig, GTF/GFF3 annotation,
contig aliases, one-hot encoding, file helpers (hashes, durable replace) and result bundles
(reproducible zips with a README).

Coordinates are 0-based half-open everywhere in this package; 1-based positions exist only at
the VCF and GFF/GTF edges (``vcf.py``, ``annotation.py``), where they are converted on read.
"""
