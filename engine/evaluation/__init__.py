"""How far a model's numbers can be trusted, for its model card: coverage accuracy where
observed tracks are paired with its own, and variant-level proxies that need no measured
variants (motif recovery, TATA-box ranks, stability under window moves and across replicates),
each beside a baseline that knows only distances. ``manage.py evaluate_model`` runs it for any
registered model; ``engine.training.evaluate`` is the yeast model's own held-out evaluation.
"""
