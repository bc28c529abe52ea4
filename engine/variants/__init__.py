"""Variant effects: the scorers (Calico's definitions, ``scorers``), the batched scoring engine
with its shared windows (``effects``), where windows fall and what a set costs (``windows``,
also used by the web app's estimates) and every export of a scored set (``exports``)."""
