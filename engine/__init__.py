"""The science of genomeweb, with no web framework and no job system: genomic file I/O, the
model adapters and their runtime, training of the demo model, variant-effect scoring,
interpretation (ISM, saliency, attention, motif labels, figures), the pure sequence-edit model
and one pipeline step per job kind.

``engine`` imports nothing from ``genomeweb`` or ``worker`` (tests/test_boundaries.py). The web
app imports only its torch-free modules (``engine.io``, ``engine.designs``,
``engine.variants.windows``, ``engine.interpret.ism_rules`` and ``engine.interpret.motifs``);
the worker calls ``engine.pipeline`` from its Celery job handlers and management commands.
"""
