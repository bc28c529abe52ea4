"""Explaining a prediction: objectives (``objectives``), in silico saturation mutagenesis
(``ism``; its limits and per-position summary in the torch-free ``ism_rules``), gradient ×
input (``saliency``), attention maps (``attention``), JASPAR motif labels of the important
stretches (``motifs``) and the paper figures (``figures``)."""
