"""Framework-free genomics I/O: no Django, no torch.

Coordinates are 0-based half-open everywhere in this package; 1-based positions exist only at
the VCF and GFF/GTF edges (``vcf.py``, ``annotation.py``), where they are converted on read.
"""
