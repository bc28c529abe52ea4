"""Sequence-to-function models behind one contract (``base.ModelAdapter``): one adapter per
architecture (Borzoi/Flashzoi, Enformer, the yeast demo network), replicate ensembles, the
registry of architectures, the runtime (device, autocast, per-process model cache, verified
weights), tiling of long regions and genome-wide predicted tracks (``regions``)."""
