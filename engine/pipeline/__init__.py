"""One module per job kind (``vcf``, ``scoring``, ``tracks``, ``ism``, ``saliency``,
``attention``, ``design``, ``report``): plain inputs in (paths, intervals, a loaded model),
files and summaries out. The worker's job handlers and its management commands call the same
functions, so a job and its command line write the same files."""
